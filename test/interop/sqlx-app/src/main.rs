//! Runs `sqlx::migrate!()` against DATABASE_URL, as a user's application would at startup,
//! and prints what it applied. Exit 0 on success, 1 when migrating fails, 2 on bad usage.

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use std::collections::BTreeSet;
use std::process::ExitCode;

/// The embedded migration sets, by name. One line per set; paths are relative to this crate.
static SETS: &[(&str, Migrator)] = &[
    ("ours", sqlx::migrate!("../../../migrations")),
    // The adoption fixture: a reversible folder (.up.sql/.down.sql) an existing application has.
    ("fixture", sqlx::migrate!("../../fixtures/app/migrations")),
    // `-- no-transaction` files: one that succeeds, then one that fails halfway (issue 18 §2.6).
    ("no-transaction", sqlx::migrate!("../migrations/no-transaction")),
];

const USAGE: &str = "sqlx-app: a Rust application that runs sqlx::migrate!() (sqlx 0.8.6)

Usage:
  sqlx-app list         the embedded migration sets and their versions
  sqlx-app run [SET]    migrate DATABASE_URL with SET (default: ours), then print
                        `applied <version> <description>` per migration that was
                        not applied before the run and is after it, and
                        `applied N, M already applied` (read from the ledger before
                        and after the run, outside sqlx's lock: a migrator running
                        at the same time has its work counted here too)
  sqlx-app --help

Environment: DATABASE_URL (postgres://user:password@host:port/db).
Exit codes: 0 success, 1 migrating failed, 2 bad usage.";

fn set(name: &str) -> Option<&'static Migrator> {
    SETS.iter().find(|(n, _)| *n == name).map(|(_, m)| m)
}

fn list() {
    for (name, m) in SETS {
        let versions: Vec<String> = m.iter().map(|x| format!("{}{}", x.version, if x.migration_type.is_down_migration() { "(down)" } else { "" })).collect();
        println!("{name}: {} migrations: {}", m.iter().filter(|x| !x.migration_type.is_down_migration()).count(), versions.join(" "));
    }
}

async fn applied_versions(pool: &sqlx::PgPool) -> Result<BTreeSet<i64>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null").fetch_one(pool).await?;
    if !exists {
        return Ok(BTreeSet::new());
    }
    let rows: Vec<i64> = sqlx::query_scalar("select version from _sqlx_migrations where success").fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

async fn run(name: &str) -> Result<(), String> {
    let migrator = set(name).ok_or_else(|| format!("no migration set {name:?} (sqlx-app list shows them)"))?;
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set".to_string())?;
    let pool = PgPoolOptions::new().max_connections(1).connect(&url).await.map_err(|e| format!("cannot connect: {e}"))?;
    // Read leniently: a role that may not read the ledger must meet sqlx's own refusal, not ours.
    let before = applied_versions(&pool).await;
    migrator.run(&pool).await.map_err(|e| e.to_string())?;
    let before = before.map_err(|e| e.to_string())?;
    let after = applied_versions(&pool).await.map_err(|e| e.to_string())?;
    let mut applied = 0;
    for m in migrator.iter().filter(|m| !m.migration_type.is_down_migration()) {
        if after.contains(&m.version) && !before.contains(&m.version) {
            println!("applied {} {}", m.version, m.description);
            applied += 1;
        }
    }
    let already = migrator.iter().filter(|m| !m.migration_type.is_down_migration() && before.contains(&m.version)).count();
    println!("applied {applied}, {already} already applied");
    pool.close().await;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["--help"] | ["-h"] | ["help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        ["list"] => {
            list();
            ExitCode::SUCCESS
        }
        ["run"] | ["run", _] => match run(args.get(1).map(String::as_str).unwrap_or("ours")).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {}", e.lines().next().unwrap_or(""));
                ExitCode::from(1)
            }
        },
        _ => {
            eprintln!("error: unknown arguments {args:?}; see sqlx-app --help");
            ExitCode::from(2)
        }
    }
}
