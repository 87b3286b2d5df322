//! [`HttpBackOffice`]: the adapter through which bankgate uses a back office served by
//! [`crate::server`] on another process or machine. It implements [`BackOffice`] and every capability;
//! whether the remote back office really offers one is its answer to know (`unsupported`).
//!
//! A call that gets no answer (the connection is refused or reset, the request times out, or the server
//! says it is unavailable) is [`BackOfficeError::Unavailable`]: it may or may not have been applied, and
//! callers repeat it with the same idempotency key. An answer that cannot be read is
//! [`BackOfficeError::Internal`]. Error bodies come back as the variant they stand for
//! ([`crate::error::from_wire`]).
//!
//! This module holds the client, its transport and [`BackOffice`]; `capabilities` maps each capability
//! trait's methods onto the routes.

use crate::error::{from_wire, ErrorBody};
use crate::wire::{LedgerReportBody, IDEMPOTENCY_KEY};
use async_trait::async_trait;
use bankgate_backoffice::{
    AccountsApi, BackOffice, BackOfficeError, CardAuthorizationApi, CardsApi, ChangesApi,
    CustomersApi, IdempotencyKey, PaymentsApi, RatesApi, TransfersApi,
};
use bankgate_domain::ids::BackOfficeId;
use bankgate_sandbox::LedgerReport;
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

mod capabilities;

type Result<T> = std::result::Result<T, BackOfficeError>;

/// Checks a back office's base URL: `http`, with a host, and nothing after the path. (This build's HTTP
/// client has no TLS, to keep it lean: a back office on another network belongs behind a TLS-terminating
/// proxy or tunnel on the bankgate side.)
pub fn parse_base_url(url: &str) -> std::result::Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if parsed.scheme() == "https" {
        return Err(format!(
            "{url:?}: https is not supported by this build's HTTP client; use http:// (behind a TLS tunnel \
             or proxy when the network is not trusted)"
        ));
    }
    if parsed.scheme() != "http" {
        return Err(format!("{url:?} is not an http:// URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{url:?} must not have a query or a fragment"));
    }
    if parsed.cannot_be_a_base() {
        return Err(format!("{url:?} cannot be a base URL"));
    }
    Ok(parsed)
}

/// How the adapter talks to its back office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// The longest a whole call may take. bankgate's registry puts its own, shorter deadline on every
    /// call; this one bounds calls made outside it.
    pub timeout: Duration,
    /// The longest establishing a connection may take.
    pub connect_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A back office reached over HTTP.
#[derive(Debug, Clone)]
pub struct HttpBackOffice {
    id: BackOfficeId,
    base: Url,
    http: reqwest::Client,
}

impl HttpBackOffice {
    /// The back office `id` served at `base_url`, with the default options.
    pub fn new(id: BackOfficeId, base_url: &str) -> std::result::Result<Self, String> {
        Self::with_options(id, base_url, HttpOptions::default())
    }

    pub fn with_options(
        id: BackOfficeId,
        base_url: &str,
        options: HttpOptions,
    ) -> std::result::Result<Self, String> {
        let base = parse_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(HttpBackOffice { id, base, http })
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The back office's ledger self-check (`GET /admin/ledger`).
    pub async fn ledger_report(&self) -> Result<LedgerReport> {
        let body: LedgerReportBody = self
            .send(self.request(Method::GET, &["admin", "ledger"]))
            .await?;
        LedgerReport::try_from(body)
    }

    /// A request to the path made of `segments` (each percent-encoded as needed) under the base URL.
    pub(super) fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        self.http.request(method, url)
    }

    pub(super) fn keyed(
        &self,
        method: Method,
        segments: &[&str],
        key: &IdempotencyKey,
    ) -> RequestBuilder {
        self.request(method, segments)
            .header(IDEMPOTENCY_KEY, key.0.as_str())
    }

    pub(super) fn post_keyed<B: Serialize + ?Sized>(
        &self,
        segments: &[&str],
        key: &IdempotencyKey,
        body: &B,
    ) -> RequestBuilder {
        self.keyed(Method::POST, segments, key).json(body)
    }

    /// Sends the request and reads the answer: its JSON body on success, the error it stands for
    /// otherwise.
    pub(super) async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T> {
        let (status, body) = self.exchange(request).await?;
        serde_json::from_slice(&body).map_err(|e| {
            BackOfficeError::Internal(format!(
                "back office {} answered {status} with an unreadable body: {e}",
                self.id
            ))
        })
    }

    /// Sends a request whose success has no body.
    pub(super) async fn send_no_content(&self, request: RequestBuilder) -> Result<()> {
        self.exchange(request).await.map(|_| ())
    }

    /// The status and body of a successful answer; the error otherwise.
    async fn exchange(&self, request: RequestBuilder) -> Result<(StatusCode, Vec<u8>)> {
        let response = request.send().await.map_err(|e| self.no_answer(&e))?;
        let status = response.status();
        // A body cut off midway is a reply that did not arrive.
        let body = response.bytes().await.map_err(|e| self.no_answer(&e))?;
        if status.is_success() {
            return Ok((status, body.to_vec()));
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(error) => Err(from_wire(error, &self.id)),
            // Not the server's own answer: a proxy in between, or something else entirely.
            Err(_) if matches!(status.as_u16(), 502..=504) => Err(BackOfficeError::Unavailable(
                format!("back office {} answered {status}", self.id),
            )),
            Err(_) => Err(BackOfficeError::Internal(format!(
                "back office {} answered {status} without an error body",
                self.id
            ))),
        }
    }

    /// What a transport failure means: the back office did not answer (a request that could not even
    /// be built is a bug here instead).
    fn no_answer(&self, error: &reqwest::Error) -> BackOfficeError {
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        if error.is_builder() {
            BackOfficeError::Internal(format!("back office {}: {detail}", self.id))
        } else {
            BackOfficeError::Unavailable(format!("back office {}: {detail}", self.id))
        }
    }
}

#[async_trait]
impl BackOffice for HttpBackOffice {
    fn id(&self) -> &BackOfficeId {
        &self.id
    }

    async fn health(&self) -> Result<()> {
        let _: crate::wire::Health = self.send(self.request(Method::GET, &["health"])).await?;
        Ok(())
    }

    fn customers(&self) -> Option<&dyn CustomersApi> {
        Some(self)
    }

    fn accounts(&self) -> Option<&dyn AccountsApi> {
        Some(self)
    }

    fn cards(&self) -> Option<&dyn CardsApi> {
        Some(self)
    }

    fn card_authorization(&self) -> Option<&dyn CardAuthorizationApi> {
        Some(self)
    }

    fn transfers(&self) -> Option<&dyn TransfersApi> {
        Some(self)
    }

    fn payments(&self) -> Option<&dyn PaymentsApi> {
        Some(self)
    }

    fn rates(&self) -> Option<&dyn RatesApi> {
        Some(self)
    }

    fn changes(&self) -> Option<&dyn ChangesApi> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office(url: &str) -> HttpBackOffice {
        HttpBackOffice::new(BackOfficeId::from_trusted("bo".into()), url).unwrap()
    }

    #[test]
    fn base_urls_are_checked() {
        for good in [
            "http://127.0.0.1:9001",
            "http://bo.example/",
            "http://bo:80/prefix",
        ] {
            assert!(parse_base_url(good).is_ok(), "{good}");
        }
        for bad in [
            "127.0.0.1:9001",
            "ftp://bo",
            "https://bo.example/",
            "http://",
            "http://bo/?x=1",
            "http://bo/#f",
            "mailto:x@y",
            "",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_go_under_the_base_and_are_encoded() {
        let url = |office: &HttpBackOffice, segments: &[&str]| {
            office
                .request(Method::GET, segments)
                .build()
                .unwrap()
                .url()
                .to_string()
        };
        assert_eq!(
            url(&office("http://h:1"), &["accounts", "ac_1"]),
            "http://h:1/accounts/ac_1"
        );
        assert_eq!(
            url(&office("http://h:1/bo-a/"), &["accounts", "a/b c"]),
            "http://h:1/bo-a/accounts/a%2Fb%20c"
        );
        assert_eq!(
            url(&office("http://h:1/bo-a"), &["rates"]),
            "http://h:1/bo-a/rates"
        );
    }
}
