//! The contract's path aliases, resolved before routing so each route exists once (and once in the
//! OpenAPI document): `/card` ≡ `/cards`, `/account` ≡ `/accounts`, `/transaction` ≡ `/transactions`,
//! and a trailing slash is ignored. PIN, reissue and restriction live under `/card/...` as documented;
//! the rest under `/cards/...` and `/accounts/...`.

use axum::extract::Request;
use axum::http::Uri;

/// Rewrites the request's path to its canonical form. `POST /undo/{id}/cancel` is the documented
/// alternative of `DELETE /undo/{id}`, so it becomes that request.
pub fn normalize_request(mut request: Request) -> Request {
    if request.method() == axum::http::Method::POST {
        if let Some(id) = undo_cancel_alias(request.uri().path()) {
            let path = format!("/undo/{id}");
            if let Ok(uri) = path.parse() {
                *request.uri_mut() = uri;
                *request.method_mut() = axum::http::Method::DELETE;
            }
            return request;
        }
    }
    if let Some(canonical) = canonical_path(request.uri().path()) {
        let mut parts = request.uri().clone().into_parts();
        let query = parts
            .path_and_query
            .as_ref()
            .and_then(|pq| pq.query())
            .map(str::to_owned);
        let path_and_query = match query {
            Some(q) => format!("{canonical}?{q}"),
            None => canonical,
        };
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}

/// The undo id of `/undo/{id}/cancel`.
fn undo_cancel_alias(path: &str) -> Option<&str> {
    let id = path
        .trim_end_matches('/')
        .strip_prefix("/undo/")?
        .strip_suffix("/cancel")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// The canonical form of `path`, or None when it already is canonical.
pub fn canonical_path(path: &str) -> Option<String> {
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut segments: Vec<&str> = trimmed.split('/').collect();
    // segments[0] is the empty string before the leading slash.
    match segments.get(1).copied() {
        Some("card") | Some("cards") => {
            let singular = matches!(
                segments.get(3).copied(),
                Some("pin" | "reissue" | "restriction")
            );
            segments[1] = if singular { "card" } else { "cards" };
        }
        Some("account") | Some("accounts") => {
            segments[1] = "accounts";
            if segments.get(3) == Some(&"transaction") {
                segments[3] = "transactions";
            }
        }
        _ => {}
    }
    let canonical = if segments.len() <= 1 {
        "/".to_owned()
    } else {
        segments.join("/")
    };
    (canonical != path).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use super::canonical_path;

    #[test]
    fn aliases_resolve_to_one_route() {
        assert_eq!(canonical_path("/card/abc"), Some("/cards/abc".into()));
        assert_eq!(canonical_path("/card/abc/on"), Some("/cards/abc/on".into()));
        assert_eq!(
            canonical_path("/cards/abc/pin"),
            Some("/card/abc/pin".into())
        );
        assert_eq!(canonical_path("/card/abc/pin"), None);
        assert_eq!(
            canonical_path("/account/a/transaction/t"),
            Some("/accounts/a/transactions/t".into())
        );
        assert_eq!(
            canonical_path("/accounts/a/transaction/t"),
            Some("/accounts/a/transactions/t".into())
        );
        assert_eq!(
            canonical_path("/transfer/acc2acc/"),
            Some("/transfer/acc2acc".into())
        );
        assert_eq!(canonical_path("/accounts"), None);
        assert_eq!(canonical_path("/"), None);
    }
}
