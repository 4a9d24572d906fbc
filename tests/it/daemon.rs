//! The harness: start `ispd` on port 0 in its own state directory, read ports.json, and
//! drive it with `ispctl` or a gRPC client.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ispd_admin_proto::v1;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::Channel;

pub const ISPD: &str = env!("CARGO_BIN_EXE_ispd");

/// The `ispctl` binary. It is a crate of its own (`ispctl/`), which cargo does not build for
/// this test: it is looked for beside the test binary's target directory
/// (`target/<profile>/deps/it-…` → `target/<profile>/ispctl`), or taken from `$ISPCTL`.
/// Build it first (`scripts/test` does), or the tests run whatever ispctl was built last.
pub fn ispctl() -> &'static Path {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path = match std::env::var_os("ISPCTL") {
            Some(path) => PathBuf::from(path),
            None => std::env::current_exe()
                .expect("the test binary's own path")
                .parent()
                .and_then(Path::parent)
                .expect("the test binary lies in target/<profile>/deps")
                .join(format!("ispctl{}", std::env::consts::EXE_SUFFIX)),
        };
        assert!(
            path.is_file(),
            "ispctl not found at {}: build it first with `cargo build -p ispctl` (add --release \
             or --profile as for the tests), or point ISPCTL at an ispctl binary",
            path.display()
        );
        path
    })
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Held by the tests that time answers or load the machine (floods, kill -9 under load,
/// outage latency): on a 2-core runner two of them side by side would measure each other,
/// not ispd. Other tests still run beside them.
static TIMED: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes the machine for a timing-sensitive test (see [`TIMED`]).
pub fn timed() -> std::sync::MutexGuard<'static, ()> {
    TIMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "ispd-it-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running ispd. Stopped with SIGTERM on drop.
pub struct Daemon {
    pub dir: TempDir,
    pub state_dir: PathBuf,
    pub config_path: PathBuf,
    pub ports: serde_json::Value,
    child: Option<Child>,
}

/// The listeners of every test daemon, all on port 0, and no billing run of its own.
pub const BASE_LISTENERS: &str = "[radius]\nauth_listen = [\"127.0.0.1:0\"]\n\
    acct_listen = [\"127.0.0.1:0\"]\n\
    [admin]\nlisten = \"127.0.0.1:0\"\n\
    [billing]\nrun_at = \"\"\n";

/// The config every test daemon starts from: all ports 0, state in the test's directory.
pub fn base_config(state_dir: &Path) -> String {
    format!(
        "state_dir = {:?}\n{BASE_LISTENERS}",
        state_dir.display().to_string()
    )
}

impl Daemon {
    /// Starts ispd with the base config plus `extra` TOML appended.
    pub fn start(name: &str, extra: &str) -> Daemon {
        Self::start_config(name, |state_dir| {
            format!("{}{extra}", base_config(state_dir))
        })
    }

    /// Starts ispd with the base config, `radius` added to its `[radius]` table, and `extra`
    /// appended.
    pub fn start_with_radius(name: &str, radius: &str, extra: &str) -> Daemon {
        Self::start_config(name, |state_dir| {
            let base = base_config(state_dir).replace("[radius]\n", &format!("[radius]\n{radius}"));
            format!("{base}{extra}")
        })
    }

    /// Starts ispd with `config` after only the `state_dir` line: for tests that choose
    /// their own listeners.
    pub fn start_with(name: &str, config: &str) -> Daemon {
        Self::start_config(name, |state_dir| {
            format!(
                "state_dir = {:?}\n{config}",
                state_dir.display().to_string()
            )
        })
    }

    /// Writes the config of [`Daemon::start_with`] without starting: for tests that prepare
    /// the state directory first (a small filesystem mounted there, say), then `spawn`.
    pub fn configure_with(name: &str, config: &str) -> Daemon {
        let dir = TempDir::new(name);
        let state_dir = dir.0.join("state");
        let config_path = dir.0.join("ispd.toml");
        std::fs::write(
            &config_path,
            format!(
                "state_dir = {:?}\n{config}",
                state_dir.display().to_string()
            ),
        )
        .unwrap();
        Daemon {
            dir,
            state_dir,
            config_path,
            ports: serde_json::Value::Null,
            child: None,
        }
    }

    /// A second instance beside `first`: the base config plus `extra`, and `first`'s
    /// `secret.key` (instances on one database share it, as the secrets are sealed with it)
    /// and admin token (its hash is in the database, so it is good on every instance).
    pub fn start_beside(name: &str, extra: &str, first: &Daemon) -> Daemon {
        Self::start_edited(name, Some(first), |base| format!("{base}{extra}"))
    }

    /// Starts ispd on the base config as `edit` changes it (a setting the base has, such as
    /// `run_at`, replaced), beside `first` when given (see [`Daemon::start_beside`]).
    pub fn start_edited(
        name: &str,
        first: Option<&Daemon>,
        edit: impl FnOnce(String) -> String,
    ) -> Daemon {
        Self::start_config(name, |state_dir| {
            std::fs::create_dir_all(state_dir).unwrap();
            if let Some(first) = first {
                for file in ["secret.key", "admin.token"] {
                    std::fs::copy(first.state_dir.join(file), state_dir.join(file)).unwrap();
                }
            }
            edit(base_config(state_dir))
        })
    }

    fn start_config(name: &str, config: impl FnOnce(&Path) -> String) -> Daemon {
        let dir = TempDir::new(name);
        let state_dir = dir.0.join("state");
        let config_path = dir.0.join("ispd.toml");
        std::fs::write(&config_path, config(&state_dir)).unwrap();
        let mut daemon = Daemon {
            dir,
            state_dir,
            config_path,
            ports: serde_json::Value::Null,
            child: None,
        };
        daemon.spawn();
        daemon
    }

    /// (Re)starts the process on the same config and state directory.
    pub fn spawn(&mut self) {
        let ports_file = self.state_dir.join("ports.json");
        let _ = std::fs::remove_file(&ports_file);
        let log = std::fs::File::create(self.dir.0.join("ispd.log")).unwrap();
        let child = Command::new(ISPD)
            .arg("--config")
            .arg(&self.config_path)
            .env("ISPD_LOG_FORMAT", "human")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn ispd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(&ports_file)
                && let Ok(ports) = serde_json::from_str(&text)
            {
                self.ports = ports;
                break;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("ispd exited with {status} during start-up:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "ispd did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs ispd on this daemon's config in the foreground until it exits: for a start that
    /// must be refused (the daemon is stopped).
    pub fn start_refused(&self) -> Output {
        Command::new(ISPD)
            .arg("--config")
            .arg(&self.config_path)
            .env("ISPD_LOG_FORMAT", "human")
            .output()
            .unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("ispd.log")).unwrap_or_default()
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.ports["admin"].as_str().unwrap())
    }

    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("admin.token"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Kills the daemon with SIGKILL: no shutdown path runs, as in a crash or power loss
    /// of the process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// The process id of the running daemon, for reading /proc.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends a signal such as "HUP" to the running daemon.
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits until the log contains `needle` (bounded), for effects of signals.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "log never said {needle:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops with SIGTERM and waits; panics if it does not stop in time.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("ispd ignored SIGTERM for 10 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Runs ispctl against this daemon the way an operator on the host would: it finds the
    /// server and the admin token through the state directory alone.
    pub fn ispctl(&self, args: &[&str]) -> Output {
        Command::new(ispctl())
            .arg("--state-dir")
            .arg(&self.state_dir)
            .args(args)
            .env_remove("ISPD_TOKEN")
            .env_remove("ISPD_SERVER")
            .output()
            .expect("run ispctl")
    }

    /// ispctl that must succeed; returns its stdout parsed as JSON (`--json` is added).
    pub fn ispctl_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ispctl(&all);
        assert!(
            out.status.success(),
            "ispctl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "ispctl {args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// A client with only the card's required fields.
    pub fn add_client(&self, number: &str) {
        self.ispctl_json(&[
            "client",
            "add",
            "--number",
            number,
            "--name",
            "Klient",
            "--street",
            "S 1",
            "--postcode",
            "1",
            "--city",
            "C",
        ]);
    }

    /// Imports `content` as a CSV bank statement in the suite's column mapping
    /// (`documents::MAPPING`), written as `name` beside the daemon; returns the import's answer.
    /// `ispctl payment import` of a camt.053 statement holding `content`.
    pub fn import_camt053(&self, content: &str) -> serde_json::Value {
        let camt = self.dir.0.join("camt.xml");
        std::fs::write(&camt, content).unwrap();
        self.ispctl_json(&[
            "payment",
            "import",
            camt.to_str().unwrap(),
            "--format",
            "camt053",
        ])
    }

    pub fn import_csv(&self, name: &str, content: &str) -> serde_json::Value {
        let csv = self.dir.0.join(name);
        std::fs::write(&csv, content).unwrap();
        let mapping = self.dir.0.join("mapping.toml");
        std::fs::write(&mapping, crate::documents::MAPPING).unwrap();
        self.ispctl_json(&[
            "payment",
            "import",
            "--format",
            "csv",
            "--mapping",
            mapping.to_str().unwrap(),
            csv.to_str().unwrap(),
        ])
    }

    /// A 10M/1M tariff at `price` a month.
    pub fn add_tariff(&self, name: &str, price: &str) {
        self.ispctl_json(&[
            "tariff", "add", "--name", name, "--down", "10M", "--up", "1M", "--price", price,
        ]);
    }

    /// A subscription of `client` on `tariff` from `activation`; returns its id.
    pub fn subscribe(&self, client: &str, tariff: &str, activation: &str) -> String {
        let sub = self.ispctl_json(&[
            "subscription",
            "add",
            "--client",
            client,
            "--tariff",
            tariff,
            "--activation",
            activation,
        ]);
        sub["id"].to_string()
    }

    /// Debian's radclient sending one request to `port` ("auth" or "acct"); `-r 1 -t 1`
    /// keeps a missing answer to about a second.
    pub fn radclient(&self, port: &str, command: &str, secret: &str, attributes: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new("radclient")
            .args([
                "-x",
                "-r",
                "1",
                "-t",
                "1",
                self.ports[port].as_str().unwrap(),
                command,
                secret,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("radclient (freeradius-utils) is installed by scripts/test");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(attributes.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs SQL on a stopped daemon's SQLite database, as capabilities not yet reachable
    /// over the API (billing, enforcement) will write it.
    pub fn sqlite(&self, sql: &str) {
        let out = self.python_sqlite(
            "c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()",
            sql,
        );
        assert!(out.status.success(), "{sql}: {}", stderr(&out));
    }

    /// Rows of a query on the daemon's SQLite database, columns joined by '|'.
    pub fn query(&self, sql: &str) -> Vec<String> {
        let out = self.python_sqlite(
            "for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print('|'.join(map(str, r)))",
            sql,
        );
        assert!(out.status.success(), "{sql}: {}", stderr(&out));
        stdout(&out).lines().map(str::to_owned).collect()
    }

    /// python3's sqlite3 module: an independent reader of what ispd wrote.
    fn python_sqlite(&self, script: &str, sql: &str) -> Output {
        Command::new("python3")
            .args(["-c", &format!("import sqlite3, sys\n{script}")])
            .arg(self.state_dir.join("ispd.db"))
            .arg(sql)
            .output()
            .unwrap()
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.admin_url())
            .unwrap()
            .connect()
            .await
            .expect("connect to the admin API")
    }

    pub async fn clients(
        &self,
        token: &str,
    ) -> v1::client_service_client::ClientServiceClient<
        tonic::service::interceptor::InterceptedService<Channel, Bearer>,
    > {
        v1::client_service_client::ClientServiceClient::with_interceptor(
            self.channel().await,
            Bearer::new(token),
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    pub fn new(token: &str) -> Bearer {
        Bearer(format!("Bearer {token}").parse().unwrap())
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A throwaway PostgreSQL database for one test, dropped on drop. `None` (with a note on
/// stderr) when ISPD_TEST_DATABASE_URL is unset; scripts/test always sets it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

/// The daemon's `[database]` section for `pg`, or nothing (its embedded SQLite).
pub fn database_section(pg: Option<&PgDatabase>) -> String {
    pg.map(|db| format!("[database]\nurl = {:?}\n", db.url))
        .unwrap_or_default()
}

impl PgDatabase {
    pub fn create(tag: &str) -> Option<PgDatabase> {
        let Ok(admin_url) = std::env::var("ISPD_TEST_DATABASE_URL") else {
            eprintln!(
                "ISPD_TEST_DATABASE_URL unset: skipping the PostgreSQL run; scripts/test sets it"
            );
            return None;
        };
        let name = format!(
            "ispd_it_{}_{}_{tag}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Self::execute(&admin_url, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("URL with a database name");
        let url = format!("{base}/{name}");
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }

    fn execute(url: &str, sql: &str) {
        Self::try_execute(url, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn try_execute(url: &str, sql: &str) -> Result<(), sqlx::Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(url)
                .await
                .expect("ISPD_TEST_DATABASE_URL is set but PostgreSQL does not answer");
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .map(|_| ())
        })
    }
}

impl Drop for PgDatabase {
    /// Cleanup, not an assertion: `WITH (FORCE)` cannot end a backend of another role (an
    /// autovacuum worker that just started on the database), so it is retried for a few
    /// seconds, and a database that still cannot go is left behind with a note.
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let mut last = None;
        for _ in 0..25 {
            match Self::try_execute(&self.admin_url, &sql) {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!("test database {} left behind: {last:?}", self.name);
    }
}
