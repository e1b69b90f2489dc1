//! An app's browser settings: the origins its pages call the device routes
//! from (CORS) and the pages that may frame its hosted capture page (CSP
//! `frame-ancestors`).

use sqlx::Row;

use super::Store;

/// What a browser may do for an app. Empty lists allow nothing: no
/// cross-origin call, no framing.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSettings {
    /// Origins (`https://shop.example`) whose pages may call `start` and
    /// `evidence` (CORS).
    #[serde(default)]
    pub origins: Vec<String>,
    /// Origins whose pages may frame `/capture/{appId}`.
    #[serde(default)]
    pub frame_ancestors: Vec<String>,
}

fn join(v: &[String]) -> Option<String> {
    (!v.is_empty()).then(|| v.join(" "))
}

fn split(s: Option<String>) -> Vec<String> {
    s.map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Whether `s` is an origin: `http(s)://host[:port]` with nothing after it
/// and no character that could end a header value or a CSP directive.
pub fn is_origin(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(host) => {
            !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
        }
        None => false,
    }
}

impl Store {
    /// Sets an app's browser settings. False if the app does not exist.
    pub async fn set_web(&self, app_id: &str, web: &WebSettings) -> Result<bool, sqlx::Error> {
        let n =
            sqlx::query("UPDATE apps SET web_origins = $2, frame_ancestors = $3 WHERE app_id = $1")
                .bind(app_id)
                .bind(join(&web.origins))
                .bind(join(&web.frame_ancestors))
                .execute(&self.writer)
                .await?
                .rows_affected();
        Ok(n == 1)
    }

    /// An app's browser settings (None: no such app).
    pub async fn web(&self, app_id: &str) -> Result<Option<WebSettings>, sqlx::Error> {
        let r = sqlx::query("SELECT web_origins, frame_ancestors FROM apps WHERE app_id = $1 AND revoked_ms IS NULL")
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await?;
        r.map(|r| {
            Ok(WebSettings {
                origins: split(r.try_get("web_origins")?),
                frame_ancestors: split(r.try_get("frame_ancestors")?),
            })
        })
        .transpose()
    }

    /// The browser origins of the app a certifyId belongs to (empty when
    /// the id is unknown).
    pub async fn origins_of_certify(&self, certify_id: &str) -> Result<Vec<String>, sqlx::Error> {
        let r = sqlx::query(
            "SELECT a.web_origins FROM certify c JOIN apps a ON a.app_id = c.app_id \
             WHERE c.certify_id = $1 AND a.revoked_ms IS NULL",
        )
        .bind(certify_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match r {
            Some(r) => split(r.try_get("web_origins")?),
            None => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert!(is_origin("https://shop.example"));
        assert!(is_origin("http://127.0.0.1:8080"));
        for bad in [
            "shop.example",
            "https://",
            "https://shop.example/",
            "https://a.example; script-src *",
            "https://a.example\r\nX: y",
            "*",
            "'self'",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
