//! A fresh database for each test: a temp SQLite file always, and a new PostgreSQL database when
//! `BANKGATE_TEST_POSTGRES_URL` is set. Each is removed when dropped, so tests run in parallel and
//! leave nothing behind.

use crate::Engine;
use sqlx::{Connection, Executor};

/// The environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "BANKGATE_TEST_POSTGRES_URL";

/// The engines every store and API suite runs on here: SQLite, plus PostgreSQL when configured.
pub fn test_engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    if std::env::var(POSTGRES_URL_VAR).is_ok_and(|v| !v.is_empty()) {
        engines.push(Engine::Postgres);
    }
    engines
}

pub struct TestDatabase {
    pub url: String,
    pub engine: Engine,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create(engine: Engine) -> TestDatabase {
        match engine {
            Engine::Sqlite => Self::sqlite(),
            Engine::Postgres => Self::postgres().await,
        }
    }

    /// A new SQLite file in its own temp directory, plus that directory for neighbours (such as sandbox
    /// back-office stores).
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let url = format!("sqlite://{}", dir.path().join("bankgate.db").display());
        TestDatabase {
            url,
            engine: Engine::Sqlite,
            _dir: Some(dir),
            postgres: None,
        }
    }

    async fn postgres() -> TestDatabase {
        let admin_url = std::env::var(POSTGRES_URL_VAR)
            .unwrap_or_else(|_| panic!("{POSTGRES_URL_VAR} is not set"));
        let name = format!("bankgate_test_{}", bankgate_domain::ids::random_base36(16));
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {admin_url}: {e}"));
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("create test database: {e}"));
        let mut url =
            url::Url::parse(&admin_url).unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}: {e}"));
        url.set_path(&name);
        TestDatabase {
            url: url.to_string(),
            engine: Engine::Postgres,
            _dir: None,
            postgres: Some((admin_url, name)),
        }
    }

    /// A sibling SQLite URL in the same temp directory (for SQLite tests), or a new temp file otherwise.
    pub fn sibling_sqlite_url(&self, file: &str) -> (String, Option<tempfile::TempDir>) {
        match &self._dir {
            Some(dir) => (
                format!("sqlite://{}", dir.path().join(file).display()),
                None,
            ),
            None => {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
                let url = format!("sqlite://{}", dir.path().join(file).display());
                (url, Some(dir))
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside a tokio runtime, which must not block on itself: use a thread of our own.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}
