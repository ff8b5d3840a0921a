//! Where the migration state lives: the local runtime's admin API, or the
//! `hal9-migration` ConfigMap in the cluster. Both offer the same versioned
//! read and conditional write, so the rollback loop does not care which.

use std::time::Duration;

use crate::exit::Failure;
use crate::runtime::api::HealthStatus;
use crate::runtime::client::{ClientError, RuntimeClient};
use crate::runtime::migration::MigrationDoc;

use super::gates::{Samples, parse};

/// A conditional write lost the race: someone else changed the state.
#[derive(Debug)]
pub enum PutError {
    Stale,
    Other(Failure),
}

pub struct LocalBackend {
    pub client: RuntimeClient,
    pub token: String,
    pub url: String,
}

fn failure(url: &str, e: ClientError) -> Failure {
    match e {
        ClientError::Connect { .. } | ClientError::Timeout { .. } => {
            Failure::critical(format!("the runtime at {url} is not answering: {e}"))
                .with_next("hal9ctl health")
        }
        ClientError::Status { status: 401, .. } => {
            Failure::critical(format!("the runtime at {url} rejected the admin token"))
                .with_next("pass the --state-dir of the running runtime")
        }
        other => Failure::critical(other.to_string()).with_next("hal9ctl rollback status"),
    }
}

impl LocalBackend {
    pub fn new(url: &str, token: String) -> Result<LocalBackend, Failure> {
        let client =
            RuntimeClient::new(url, Duration::from_secs(10)).map_err(|e| failure(url, e))?;
        Ok(LocalBackend {
            client,
            token,
            url: url.to_string(),
        })
    }

    pub async fn get(&self) -> Result<MigrationDoc, Failure> {
        self.client
            .admin_get(&self.token, "/admin/migration")
            .await
            .map(|t| t.body)
            .map_err(|e| failure(&self.url, e))
    }

    pub async fn put(&self, doc: &MigrationDoc) -> Result<MigrationDoc, PutError> {
        match self
            .client
            .admin_put(&self.token, "/admin/migration", doc)
            .await
        {
            Ok(t) => Ok(t.body),
            Err(ClientError::Status {
                status: 409,
                code,
                message,
                ..
            }) if code == "stale_version" => {
                tracing::debug!("stale version: {message}");
                Err(PutError::Stale)
            }
            Err(ClientError::Status {
                status: 409,
                message,
                ..
            }) => Err(PutError::Other(Failure::critical(format!(
                "the runtime refused the step: {message}"
            )))),
            Err(e) => Err(PutError::Other(failure(&self.url, e))),
        }
    }

    pub async fn scrape(&self) -> Result<Samples, Failure> {
        self.client
            .metrics_text()
            .await
            .map(|t| parse(&t))
            .map_err(|e| failure(&self.url, e))
    }

    pub async fn ready(&self) -> bool {
        self.client
            .ready()
            .await
            .map(|t| t.body.ready)
            .unwrap_or(false)
    }

    pub async fn healthy(&self) -> Result<HealthStatus, Failure> {
        self.client
            .health()
            .await
            .map(|t| t.body.status)
            .map_err(|e| failure(&self.url, e))
    }
}
