//! A throw-away PostgreSQL database for one benchmark run.

use diesel::{Connection, PgConnection, RunQueryDsl};

/// Creates a fresh database on the server of `admin_url`; drops it on drop.
pub struct FreshDatabase {
    admin_url: String,
    name: String,
    /// URL of the fresh database.
    pub url: String,
}

/// `url` with its database name (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> Result<String, String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base
        .find("://")
        .ok_or_else(|| format!("{url:?} is not a postgres:// URL"))?
        + 3;
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

impl FreshDatabase {
    /// Creates `<prefix>_<pid>_<nanos>` on the server of `admin_url`.
    pub fn create(admin_url: &str, prefix: &str) -> Result<FreshDatabase, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("{prefix}_{}_{nanos}", std::process::id());
        let mut conn = PgConnection::establish(admin_url)
            .map_err(|e| format!("connecting to postgres: {e}"))?;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .map_err(|e| format!("creating database {name}: {e}"))?;
        Ok(FreshDatabase {
            url: with_database(admin_url, &name)?,
            admin_url: admin_url.to_owned(),
            name,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.admin_url)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut conn)
                .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            eprintln!(
                "warning: could not drop benchmark database {}: {e}",
                self.name
            );
        }
    }
}
