//! `aws-auth-migrate rollback`.

use anyhow::{bail, Result};

use crate::apply::rollback::{self, RollbackFlags};
use crate::aws::AwsOptions;
use crate::cli::RollbackArgs;
use crate::commands::apply::{finish, presentation};

pub fn run(args: RollbackArgs) -> Result<i32> {
    let flags = RollbackFlags {
        aws: AwsOptions {
            profile: args.profile.clone(),
            region: args.region.clone(),
            role_arn: args.role_arn.clone(),
        },
        force: args.force,
    };
    let pres = presentation(args.output, args.yes, None);
    let report = match (&args.journal, &args.migration_id, &args.cluster) {
        (Some(journal), _, _) => rollback::rollback(journal, flags, pres)?,
        (None, Some(id), Some(cluster)) => rollback::rollback_by_tag(id, cluster, flags, pres)?,
        _ => bail!("say what to roll back: a JOURNAL, or --migration-id ID --cluster NAME"),
    };
    Ok(finish(&report, args.output))
}
