//! Typed API errors shared by every protocol; each front end renders them in
//! its own wire shape (restJson1 header + body, query XML, Kubernetes Status).

use thiserror::Error;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{status} {code}: {message}")]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }
    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameterException", message)
    }
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "ResourceNotFoundException", message)
    }
    pub(crate) fn in_use(message: impl Into<String>) -> Self {
        Self::new(409, "ResourceInUseException", message)
    }
}

/// Errors starting or driving the emulator itself (not API answers).
#[derive(Debug, Error)]
pub enum EmulatorError {
    #[error("invalid seed: {0}")]
    Seed(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("yaml: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("{0}")]
    NotFound(String),
}
