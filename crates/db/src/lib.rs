//! Database connections for bankgate's stores. One [`Db`] serves SQLite (the embedded default: one file,
//! WAL, a single writer connection so writers never fight over the lock) and PostgreSQL (one pool), picked
//! by the URL's scheme. Queries are written for sqlx's `Any` driver with `$1` placeholders, which both
//! engines accept, so a store is written once; per-engine SQL lives only in migrations and in the few
//! statements that [`Engine`] switches on. sqlx runs them on PostgreSQL; on SQLite they run on the calling
//! thread through rusqlite (`sqlite`), which is why the stores hold a [`Conn`] rather than sqlx's
//! `AnyConnection`.
#![forbid(unsafe_code)]

mod pool;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

pub use pool::{Conn, Pool, PoolConn, Tx, WriteGeneration};
pub use sqlite::SqliteConn;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{ConnectOptions, Connection, Executor};
use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;

pub use sqlx;

/// The errors of this crate and of the stores built on it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn from_url(url: &str) -> Result<Engine, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            Err(DbError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// Pool sizes and timeouts.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A connected database: a pool for reads and one for writes (the same pool on PostgreSQL).
#[derive(Debug, Clone)]
pub struct Db {
    engine: Engine,
    /// How sqlx connects to it, for the migrations.
    connect: AnyConnectOptions,
    /// SQLite's log checkpointing thread, stopped by `close` or when the last clone is dropped.
    checkpointer: Option<Arc<sqlite::Checkpointer>>,
    read: Pool,
    write: Pool,
    writes: WriteGeneration,
}

static DRIVERS: Once = Once::new();

impl Db {
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Db, DbError> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let engine = Engine::from_url(url)?;
        match engine {
            Engine::Sqlite => Self::connect_sqlite(url, options).await,
            Engine::Postgres => {
                let connect = AnyConnectOptions::from_str(url)?;
                let pool = pool_options(options, options.max_connections)
                    .connect_with(connect.clone())
                    .await?;
                let pool = Pool::sqlx(pool);
                let writes = WriteGeneration::default();
                Ok(Db {
                    engine,
                    connect,
                    checkpointer: None,
                    read: pool.clone(),
                    write: pool.counting_writes(&writes),
                    writes,
                })
            }
        }
    }

    async fn connect_sqlite(url: &str, options: &DbOptions) -> Result<Db, DbError> {
        let url = sqlite_url_creating_file(url);
        let target = sqlite::SqliteTarget::parse(&url)?;
        let writes = WriteGeneration::default();
        let write =
            Pool::sqlite(target.clone(), 1, options.acquire_timeout).counting_writes(&writes);
        // WAL is a property of the file: set once, by the writer, before readers open it. Another
        // process's (or a stopped node's) connections may be closing the file, the last of them
        // checkpointing the log, and SQLite answers busy without waiting: wait as a statement would.
        let opening = std::time::Instant::now();
        loop {
            match write.execute("PRAGMA journal_mode = WAL").await {
                Ok(_) => break,
                Err(e) if is_busy(&e) && opening.elapsed() < OPEN_BUSY_WAIT => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let readers = options.max_connections.clamp(1, 8);
        let checkpointer = match target.writable() {
            true => Some(Arc::new(sqlite::Checkpointer::start(&target)?)),
            false => None,
        };
        let read = Pool::sqlite(target, readers, options.acquire_timeout);
        Ok(Db {
            engine: Engine::Sqlite,
            checkpointer,
            connect: AnyConnectOptions::from_str(&url)?,
            read,
            write,
            writes,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The pool for queries that only read.
    pub fn read(&self) -> &Pool {
        &self.read
    }

    /// The pool for anything that writes (one connection on SQLite).
    pub fn write(&self) -> &Pool {
        &self.write
    }

    /// Moves after every write made through [`Db::write`]; see [`WriteGeneration`].
    pub fn write_generation(&self) -> &WriteGeneration {
        &self.writes
    }

    /// Applies the migrations of this database's engine.
    pub async fn migrate(&self, sqlite: &Migrator, postgres: &Migrator) -> Result<(), DbError> {
        let migrator = match self.engine {
            Engine::Sqlite => sqlite,
            Engine::Postgres => postgres,
        };
        // Through the write pool's connection where it is sqlx's; on SQLite through a sqlx connection
        // of its own, while the pool's writer is held so nothing else writes meanwhile.
        let mut conn = self.write.acquire().await?;
        match conn.as_sqlx() {
            Some(sqlx_conn) => migrator.run(sqlx_conn).await?,
            None => {
                let mut own = self.connect.connect().await?;
                let ran = migrator.run(&mut own).await;
                own.close().await?;
                ran?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stop();
        }
    }
}

/// A pooled connection idle longer than this is pinged before it is handed out.
pub(crate) const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

fn pool_options(options: &DbOptions, max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(options.acquire_timeout)
        // sqlx pings every connection it hands out by default: a round trip to the server before each
        // query. A connection in steady use is known good (a broken one fails its query and leaves the
        // pool), so only one that sat idle is checked.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_IF_IDLE_FOR {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// SQLite URLs open read-write and create the file unless they say otherwise.
fn sqlite_url_creating_file(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// How long opening a SQLite file waits while another connection holds it.
const OPEN_BUSY_WAIT: Duration = Duration::from_secs(10);

/// SQLite's SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes: another connection holds
/// the file; worth trying again.
const SQLITE_BUSY_CODES: [&str; 6] = ["5", "6", "261", "262", "517", "773"];

/// Whether an error is SQLite saying the file is busy or locked.
fn is_busy(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db)
        if db.code().is_some_and(|code| SQLITE_BUSY_CODES.contains(&code.as_ref())))
}

/// Whether an error is a statement's own refusal (a constraint, a deadlock or serialization victim), as
/// opposed to the database being unreachable, shutting down, out of connections, read-only, or a lock held
/// past the wait: the kind of error that the same statements written apart might not meet.
pub fn is_statement_refusal(err: &sqlx::Error) -> bool {
    // SQLite (numeric codes): SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes.
    // PostgreSQL (five-character SQLSTATEs): lock_not_available, read_only_sql_transaction (after a
    // failover), and the classes of connection exceptions, insufficient resources and operator
    // intervention (which includes query_canceled, a statement or lock timeout).
    const NOT_THE_STATEMENTS: [&str; 2] = ["55P03", "25006"];
    const NOT_THE_STATEMENTS_CLASSES: [&str; 3] = ["08", "53", "57"];
    match err {
        sqlx::Error::Database(db) => {
            db.code().is_none_or(|code| {
                let in_a_class = code.len() == 5
                    && NOT_THE_STATEMENTS_CLASSES
                        .iter()
                        .any(|class| code.starts_with(class));
                !in_a_class && !NOT_THE_STATEMENTS.contains(&code.as_ref())
            }) && !is_busy(err)
        }
        _ => false,
    }
}

/// Whether an error is a unique-constraint violation, on either engine.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}
