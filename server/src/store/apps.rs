//! Apps (callers of the API): their key, stored as a hash, and their
//! allow-list of caller addresses.

use sqlx::Row;

use super::Store;

/// An app as the admin command lists it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    /// Its id (`X-Realface-App`).
    pub app_id: String,
    /// Its name.
    pub name: String,
    /// When it was added (Unix ms).
    pub created_ms: i64,
    /// When its key was revoked, if it was.
    pub revoked_ms: Option<i64>,
    /// The caller addresses allowed (empty: everyone).
    pub callers: Vec<String>,
}

/// A new app and its key, shown once.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApp {
    /// Its id.
    pub app_id: String,
    /// Its key (`X-Realface-Key`); only its hash is stored.
    pub key: String,
}

/// The stored form of a key ([`crate::secret::hash`]).
pub fn key_hash(key: &str) -> String {
    crate::secret::hash(key)
}

fn random(bytes: usize) -> Result<String, sqlx::Error> {
    realface::session::certify::random_hex(bytes)
        .map_err(|e| sqlx::Error::Protocol(format!("no randomness: {e}")))
}

/// What a credential check found.
#[derive(Debug, Clone)]
pub struct AppAuth {
    /// The stored key hash.
    pub key_hash: String,
    /// Revoked apps are unknown to the API.
    pub revoked: bool,
    /// The allow-list.
    pub callers: Vec<String>,
}

impl Store {
    /// Adds an app with a fresh 128-bit key, an empty account and its
    /// contract's first day (a day number; default: today).
    pub async fn add_app(
        &self,
        name: &str,
        now_ms: u64,
        contract_start_day: Option<i64>,
    ) -> Result<NewApp, sqlx::Error> {
        let app = NewApp {
            app_id: format!("app_{}", random(8)?),
            key: random(16)?,
        };
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO apps (app_id, name, key_hash, created_ms, contract_start_day) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&app.app_id)
        .bind(name)
        .bind(key_hash(&app.key))
        .bind(now_ms as i64)
        .bind(contract_start_day.unwrap_or((now_ms / 86_400_000) as i64))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO accounts (app_id) VALUES ($1)")
            .bind(&app.app_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(app)
    }

    /// Every app.
    pub async fn list_apps(&self) -> Result<Vec<App>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT app_id, name, created_ms, revoked_ms FROM apps ORDER BY created_ms, app_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut apps = Vec::with_capacity(rows.len());
        for r in rows {
            let app_id: String = r.try_get("app_id")?;
            let callers = self.callers(&app_id).await?;
            apps.push(App {
                name: r.try_get("name")?,
                created_ms: r.try_get("created_ms")?,
                revoked_ms: r.try_get("revoked_ms")?,
                app_id,
                callers,
            });
        }
        Ok(apps)
    }

    async fn callers(&self, app_id: &str) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT caller FROM app_callers WHERE app_id = $1 ORDER BY caller")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await
    }

    /// Adds `caller` (an IP address) to an app's allow-list. False if the
    /// app does not exist.
    pub async fn allow_caller(&self, app_id: &str, caller: &str) -> Result<bool, sqlx::Error> {
        let n = sqlx::query(
            "INSERT INTO app_callers (app_id, caller) SELECT app_id, $2 FROM apps WHERE app_id = $1 \
             ON CONFLICT (app_id, caller) DO NOTHING",
        )
        .bind(app_id)
        .bind(caller)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1 || self.app_auth(app_id).await?.is_some())
    }

    /// Revokes an app's key: every later call is 54003. False if the app
    /// does not exist.
    pub async fn revoke_app(&self, app_id: &str, now_ms: u64) -> Result<bool, sqlx::Error> {
        let n =
            sqlx::query("UPDATE apps SET revoked_ms = $2 WHERE app_id = $1 AND revoked_ms IS NULL")
                .bind(app_id)
                .bind(now_ms as i64)
                .execute(&self.writer)
                .await?
                .rows_affected();
        Ok(n == 1 || self.app_auth(app_id).await?.is_some())
    }

    /// What the credential check needs of an app.
    pub async fn app_auth(&self, app_id: &str) -> Result<Option<AppAuth>, sqlx::Error> {
        let Some(r) = sqlx::query("SELECT key_hash, revoked_ms FROM apps WHERE app_id = $1")
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let revoked: Option<i64> = r.try_get("revoked_ms")?;
        Ok(Some(AppAuth {
            key_hash: r.try_get("key_hash")?,
            revoked: revoked.is_some(),
            callers: self.callers(app_id).await?,
        }))
    }
}
