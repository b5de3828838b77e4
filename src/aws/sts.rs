//! STS: who is calling.

use aws_config::SdkConfig;

use super::error::{classify, AwsError};

/// The caller as STS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    /// `arn:P:iam::A:user/NAME` or `arn:P:sts::A:assumed-role/NAME/SESSION`.
    pub arn: String,
}

#[derive(Debug, Clone)]
pub struct Sts {
    client: aws_sdk_sts::Client,
}

impl Sts {
    pub fn new(conf: &SdkConfig) -> Sts {
        Sts {
            client: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(conf)
                    .interceptor(super::log::RequestLog)
                    .build(),
            ),
        }
    }

    /// `GetCallerIdentity`.
    pub async fn caller(&self) -> Result<Caller, AwsError> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| classify("GetCallerIdentity", "sts:GetCallerIdentity", e))?;
        Ok(Caller {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }
}
