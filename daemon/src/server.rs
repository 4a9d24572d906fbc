//! Start-up and the life of the daemon: state directory, storage, tokens, listeners,
//! ports.json, readiness, and shutdown on SIGTERM/SIGINT.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::{AdminState, router};
use crate::changes::ChangeFeed;
use crate::clock::Clock;
use crate::config::Config;
use crate::enforcement::Enforcer;
use crate::instance::Heartbeat;
use crate::live::Live;
use crate::radius::accounting::{AccountingService, Downtime};
use crate::radius::{CacheUpdater, RadiusService};
use crate::storage::{Backend, Store, redact_url};
use crate::token::{self, Caller, Role, TokenHash, TokenSet};

/// The RADIUS side's memory: the access cache and NAS table, and the address pools with the
/// addresses of the sessions still open held again, and the offers the last stop kept.
async fn load_radius(config: &Config, store: &Store) -> anyhow::Result<Arc<RadiusService>> {
    let radius = RadiusService::load(config, store)
        .await
        .context("cannot build the RADIUS access cache")?;
    let open = store
        .open_session_addresses()
        .await
        .context("cannot read the open sessions' addresses")?;
    radius
        .addresses
        .start(
            config.pool_specs()?,
            open,
            &config.state_dir,
            chrono::Utc::now(),
        )
        .context("address pools")?;
    Ok(Arc::new(radius))
}

/// Runs the daemon until SIGTERM or SIGINT; SIGHUP re-reads `config_path`.
pub async fn run(mut config: Config, config_path: Option<PathBuf>) -> anyhow::Result<()> {
    let started_at = Clock::system().now();
    config.loaded_at = Some(started_at);
    let state_dir = config.state_dir.clone();
    prepare_state_dir(&state_dir)?;
    let (url, database_file) = (config.database_url(), config.sqlite_file());
    // Held until the process ends, however it ends: the kernel releases it.
    let _single = lock_sqlite_state(&state_dir, &url, database_file.as_deref())?;
    let store = open_store(&config, (&url, database_file.as_deref()), &state_dir).await?;
    bootstrap_admin_token(&config, &store, &state_dir).await?;
    let tokens = Arc::new(Live::new(token_set(&config, &store).await?));

    // Every socket is bound before anything serves, so a taken port stops the start cleanly.
    let listeners = Listeners::bind(&config).await?;

    let change_log_from = crate::change_log::start(&store).await;
    let radius = load_radius(&config, &store).await?;
    let stale_after = config.radius.stale_after();
    let live_config = Arc::new(Live::new(config));
    // Every committed change that alters what RADIUS answers is published here once.
    let changes = ChangeFeed::default();
    // One clock for the API and the jobs: "today" in one zone for every caller.
    let clock = Clock::system().in_zone(live_config.load().billing.zone());
    // Since when the NASes could not report, and as of when the sessions were last told.
    let down = Downtime {
        from: last_alive(&store).await,
        to: started_at,
    };
    let enforcer = subscribe_consumers(&changes, &radius, &store, &live_config, down, clock).await;
    let heartbeat = keep_in_step(&store, &changes, &radius, change_log_from);
    let stopping = Arc::new(crate::app::Stopping::new());
    let state = AdminState {
        store: store.clone(),
        config: live_config.clone(),
        changes: changes.clone(),
        clock,
        enforcer: enforcer.clone(),
        radius: radius.clone(),
        started_at,
        stopping: stopping.clone(),
    };
    let admin = router(state, tokens.clone())?;
    let admin_tls = listeners.admin_tls.clone();
    tokio::spawn(reload_on_sighup(
        config_path,
        live_config.clone(),
        tokens,
        admin_tls.clone(),
        store.clone(),
        radius.clone(),
        changes.clone(),
    ));
    tokio::spawn(sample_rates(radius.clone()));
    let (admin_task, admin_stopped) =
        spawn_admin(admin, listeners.admin, admin_tls.clone(), stopping.clone());
    for socket in listeners.auth {
        radius
            .serve(socket)
            .context("cannot start the RADIUS threads")?;
    }
    tokio::spawn(crate::jobs::daily(
        live_config.clone(),
        store.clone(),
        changes.clone(),
        clock,
        stopping,
    ));
    let accounting = start_accounting(
        &radius,
        &store,
        stale_after,
        down,
        &state_dir,
        listeners.acct,
    )?;

    if let Some((listener, handle)) = listeners.metrics {
        let serve = crate::metrics::serve(listener, handle, store.clone(), radius.clone());
        tokio::spawn(serve);
    }

    announce_ready(&state_dir, &listeners.ports, admin_tls.is_some(), &url)?;
    keep_alive_while_healthy(&radius, database_file.as_deref());
    serve_until_stopped(admin_task, admin_stopped).await?;
    notify_systemd("STOPPING=1");
    stop_cleanly(&radius, &enforcer, &accounting, &heartbeat, &store).await;
    tracing::info!("ispd stopped");
    Ok(())
}

/// After the admin server: what is held in memory is written — the authentication log's
/// gathered attempts, the requests still queued for the NASes (as unsent), the last
/// heartbeat (what the sessions were told is as of now), the accounting batch in hand — and
/// then every database connection closes, the accounting writers' first, so on SQLite the log
/// is folded into the database file. Last, the address pools' offers still waiting for their
/// Start go to a file in the state directory.
async fn stop_cleanly(
    radius: &RadiusService,
    enforcer: &Enforcer,
    accounting: &AccountingService,
    heartbeat: &Heartbeat,
    store: &Store,
) {
    radius.auth_log.stop().await;
    enforcer.stop().await;
    heartbeat.write_last().await;
    if !accounting.stop(WRITERS_STOP).await {
        tracing::warn!(
            within_s = WRITERS_STOP.as_secs(),
            "an accounting writer did not stop in time; SQLite's log is folded in at the next start"
        );
    }
    store.close().await;
    match radius.addresses.keep_offers() {
        Ok(0) => {}
        Ok(kept) => tracing::info!(
            kept,
            "address pool offers still waiting for their Start kept for the next start"
        ),
        Err(e) => tracing::warn!(
            error = %e,
            "address pool offers not kept; the next start may offer them to another login"
        ),
    }
}

/// Writes `ports.json` — last, so a script that sees it can send requests and get answers —
/// and tells the log and systemd that ispd is ready.
fn announce_ready(
    state_dir: &Path,
    ports: &BTreeMap<&'static str, SocketAddr>,
    admin_tls: bool,
    url: &str,
) -> anyhow::Result<()> {
    write_ports(state_dir, ports, admin_tls)?;
    tracing::info!(
        auth = %ports["auth"],
        acct = %ports["acct"],
        admin = %ports["admin"],
        database = %redact_url(url),
        state_dir = %state_dir.display(),
        "ispd is ready: listening for RADIUS and the admin API"
    );
    notify_systemd("READY=1");
    Ok(())
}

/// The daemon's sockets, bound and reported in `ports.json`.
struct Listeners {
    auth: Vec<std::net::UdpSocket>,
    acct: Vec<std::net::UdpSocket>,
    admin: crate::connections::Listener,
    /// The admin API's TLS, swapped on reload; `None` in clear (loopback only).
    admin_tls: Option<Arc<Live<rustls::ServerConfig>>>,
    metrics: Option<(
        crate::connections::Listener,
        metrics_exporter_prometheus::PrometheusHandle,
    )>,
    ports: BTreeMap<&'static str, SocketAddr>,
}

impl Listeners {
    async fn bind(config: &Config) -> anyhow::Result<Listeners> {
        let mut ports = BTreeMap::new();
        let auth = bind_auth(&config.radius.auth_listen, "radius.auth_listen")?;
        let acct = bind_udp(&config.radius.acct_listen, "radius.acct_listen")?;
        ports.insert("auth", auth[0].local_addr()?);
        ports.insert("acct", acct[0].local_addr()?);
        let admin_listener = TcpListener::bind(config.admin.listen)
            .await
            .with_context(|| format!("admin.listen: cannot listen on {}", config.admin.listen))?;
        ports.insert("admin", admin_listener.local_addr()?);
        let admin_listener =
            crate::connections::Listener::new(admin_listener, config.admin.limits(), "admin");
        let admin_tls = crate::tls::server_config(&config.admin)?.map(|c| Arc::new(Live::new(c)));
        let metrics = match config.metrics.listen {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("metrics.listen: cannot listen on {addr}"))?;
                ports.insert("metrics", listener.local_addr()?);
                // Before anything registers a counter (the RADIUS service does, just below).
                let handle = crate::metrics::install()?;
                Some((
                    crate::connections::Listener::new(listener, config.metrics.limits(), "metrics"),
                    handle,
                ))
            }
            None => None,
        };
        Ok(Listeners {
            auth,
            acct,
            admin: admin_listener,
            admin_tls,
            metrics,
            ports,
        })
    }
}

/// When the sessions that are up were last told their answers: the last heartbeat of the
/// instances before this one (now on a new database, or if it cannot be read).
async fn last_alive(store: &Store) -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    match store.last_heartbeat_of_others().await {
        Ok(last) => last.map_or(now, |at| at.min(now)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read when ispd was last running; online sessions are taken to have today's answers");
            now
        }
    }
}

/// The consumers of the change feed, in order: the access cache first, then enforcement,
/// which reads the logins as RADIUS answers for them; with enforcement's timers, and the cap
/// watch, which publishes to the feed. What the online sessions were last told is taken as
/// of when ispd was last running: the caps whose period turned since first, then
/// enforcement's memory of each login.
async fn subscribe_consumers(
    changes: &ChangeFeed,
    radius: &Arc<RadiusService>,
    store: &Store,
    config: &Arc<Live<Config>>,
    down: Downtime,
    clock: Clock,
) -> Arc<Enforcer> {
    let told_at = down.from;
    let lead = crate::lead::Lead::start(store.clone());
    let caps = crate::caps::CapWatch::new(
        store.clone(),
        radius.clone(),
        changes.clone(),
        clock,
        lead.clone(),
    );
    caps.mark_as_of(clock.zone().date_of(told_at), clock.today())
        .await;
    CacheUpdater::subscribe(changes, radius.clone(), store.clone(), config.clone());
    let enforcer = Arc::new(Enforcer::start(
        store.clone(),
        radius.clone(),
        config.clone(),
        lead,
        told_at,
    ));
    changes.subscribe(enforcer.clone());
    tokio::spawn(enforcer.clone().catch_up());
    tokio::spawn(enforcer.clone().run_periodic());
    tokio::spawn(enforcer.clone().run_clock());
    enforcer.follow_starts();
    tokio::spawn(caps.run());
    enforcer
}

/// Serves the admin API until SIGTERM/SIGINT; the receiver says when the server's own
/// shutdown began. The signal sets `stopping` first, so a billing run in flight ends after
/// the batch in hand and answers within [`CALLS_GRACE`].
fn spawn_admin(
    admin: crate::api::AdminRouter,
    listener: crate::connections::Listener,
    tls: Option<Arc<Live<rustls::ServerConfig>>>,
    stopping: Arc<crate::app::Stopping>,
) -> (
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    tokio::sync::watch::Receiver<bool>,
) {
    let (shut_tx, shut) = tokio::sync::watch::channel(false);
    let drain = listener.drain();
    let shutdown = async move {
        shutdown_signal().await;
        stopping.begin();
        // The server's own shutdown starts once the calls in flight have answered: begun
        // under it, a call's answer was cut off (its caller told the connection broke while
        // the call went on and committed — found probing from outside).
        finish_calls_in_flight().await;
        let _ = shut_tx.send(true);
        // The server says goodbye on every connection as this returns; a moment later the
        // connections with no call in flight are closed, acknowledged or not.
        tokio::spawn(async move {
            tokio::time::sleep(GOAWAY_MOMENT).await;
            drain.close_idle();
        });
    };
    let admin_task = tokio::spawn(async move {
        admin
            .serve_with_incoming_shutdown(crate::tls::incoming(listener, tls), shutdown)
            .await
    });
    (admin_task, shut)
}

/// Samples the request tallies for `ispctl system status`'s per-minute rates.
async fn sample_rates(radius: Arc<RadiusService>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        every.tick().await;
        radius.rates.sample(std::time::Instant::now());
    }
}

/// The accounting writers (replaying the spool first) and one receive thread per socket.
fn start_accounting(
    radius: &Arc<RadiusService>,
    store: &Store,
    stale_after: std::time::Duration,
    down: Downtime,
    state_dir: &Path,
    sockets: Vec<std::net::UdpSocket>,
) -> anyhow::Result<Arc<AccountingService>> {
    let accounting =
        AccountingService::start(radius.clone(), store.clone(), stale_after, down, state_dir)
            .with_context(|| {
                format!(
                    "cannot open the accounting spool in {}",
                    state_dir.display()
                )
            })?;
    for socket in sockets {
        accounting
            .serve(socket)
            .context("cannot start the accounting thread")?;
    }
    Ok(accounting)
}

/// Creates the state directory if needed, readable by the daemon's user only.
fn prepare_state_dir(state_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(state_dir)
        .with_context(|| format!("cannot create the state directory {}", state_dir.display()))?;
    restrict_permissions(state_dir);
    Ok(())
}

/// What other instances on the same PostgreSQL change reaches this one's consumers, read on
/// from `from`; the heartbeat tells them how far this one has read.
fn keep_in_step(
    store: &Store,
    changes: &ChangeFeed,
    radius: &Arc<RadiusService>,
    from: i64,
) -> Arc<Heartbeat> {
    let position = Arc::new(crate::change_log::Position::default());
    tokio::spawn(crate::change_log::follow(
        store.clone(),
        changes.clone(),
        radius.clone(),
        position.clone(),
        from,
    ));
    let heartbeat = Heartbeat::new(store.clone(), position);
    tokio::spawn(heartbeat.clone().run());
    heartbeat
}

/// One daemon per SQLite state: SQLite has no way to keep two processes' access caches and
/// session memories in step (several instances run on PostgreSQL). A second start is refused
/// before it touches anything, by exclusive locks on `<state_dir>/ispd.lock` (the spool, the
/// key and the token are there) and on `<database file>.lock` beside the database, wherever
/// `[database] url` puts it — found probing from outside: a second daemon with its own state
/// directory ran on the first one's database, sealed a password with its own key, and the
/// first could not start again. The kernel releases a lock when its holder exits — also by
/// kill -9, so no stale lock is left. Each file names the holder's process id for the message.
fn lock_sqlite_state(
    state_dir: &Path,
    url: &str,
    database_file: Option<&Path>,
) -> anyhow::Result<Vec<std::fs::File>> {
    if Backend::of_url(url) != Some(Backend::Sqlite) {
        return Ok(Vec::new());
    }
    let mut held = vec![lock_file(&state_dir.join("ispd.lock"), state_dir)?];
    if let Some(file) = database_file {
        let mut name = file.as_os_str().to_owned();
        name.push(".lock");
        held.push(lock_file(Path::new(&name), file)?);
    }
    Ok(held)
}

/// An exclusive lock on `path` for the SQLite state `what` (named in the refusal).
fn lock_file(path: &Path, what: &Path) -> anyhow::Result<std::fs::File> {
    use std::io::{Read, Seek, Write};
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            write!(file, "{}", std::process::id())?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            anyhow::bail!(
                "another ispd (pid {}) is running on {}: a SQLite database serves one instance; \
                 stop it first, or run several instances on PostgreSQL",
                holder.trim(),
                what.display()
            )
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Opens the database with the key that seals its secrets. A missing key is created only
/// when the database holds nothing sealed with a previous one.
async fn open_store(
    config: &Config,
    (url, database_file): (&str, Option<&Path>),
    state_dir: &Path,
) -> anyhow::Result<Store> {
    if let Some(file) = database_file {
        check_database_file(file)?;
    }
    let (sealer, new_key) = match crate::seal::load(state_dir)? {
        Some(sealer) => {
            if let Some(file) = database_file {
                refuse_a_lost_database(file, state_dir)?;
            }
            (sealer, None)
        }
        None => {
            let (sealer, key) = crate::seal::generate()?;
            (sealer, Some(key))
        }
    };
    let store = Store::open_instance(
        url,
        config.database.max_connections,
        sealer,
        &crate::instance::id(),
    )
    .await?;
    if let Some(key) = new_key {
        // A new key beside sealed data would be the wrong one, and would hide the loss.
        if store
            .holds_sealed_secrets()
            .await
            .context("cannot check the database for encrypted secrets")?
        {
            anyhow::bail!(
                "{} is missing but the database holds encrypted NAS secrets or login passwords: \
                 restore secret.key from the backup made with the database (nothing was written)",
                crate::seal::key_path(state_dir).display()
            );
        }
        key.write(state_dir)?;
    }
    Ok(store)
}

/// A state directory with its seal key but without the SQLite database beside it held one:
/// starting would create an empty database — an ISP with no clients, every record
/// acknowledged before gone from sight, the admin token replaced. Found probing from
/// outside (the database deleted under a running daemon, or a restore that named it
/// wrongly). Refused, saying how to go on.
fn refuse_a_lost_database(file: &Path, state_dir: &Path) -> anyhow::Result<()> {
    if !file.exists() {
        anyhow::bail!(
            "the database {} is missing but {} is here, so this state directory held one: \
             restore the database from its backup (README \"Backup and restore\"), or move \
             secret.key away to start with an empty database (nothing was written)",
            file.display(),
            crate::seal::key_path(state_dir).display()
        );
    }
    Ok(())
}

/// An existing SQLite database file this process can read and write, and that is one: else
/// the pool's connections fail one by one until it gives up after seconds with "pool timed
/// out", the cause only in the retries' lines (found probing from outside: a file that is
/// not a database, and one a restore left owned by root).
fn check_database_file(file: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let mut opened = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
    {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(file)?;
            anyhow::bail!(
                "cannot write the database {} (owner uid {}, mode {:o}): it must belong to the \
                 user ispd runs as (after a restore: chown ispd:ispd it, mode 0600)",
                file.display(),
                meta.uid(),
                meta.mode() & 0o7777
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", file.display())),
        Ok(opened) => opened,
    };
    let mut header = [0u8; 16];
    let read = opened.read(&mut header)?;
    if read > 0 && header[..read] != b"SQLite format 3\0"[..read] {
        anyhow::bail!(
            "{} is not a SQLite database (its first bytes are not SQLite's): restore it from \
             its backup",
            file.display()
        );
    }
    Ok(())
}

/// Waits, at most [`CALLS_GRACE`], for the admin calls being served to answer, with a
/// moment for their answers to leave.
async fn finish_calls_in_flight() {
    let calls = crate::connections::calls_in_flight();
    if calls == 0 {
        return;
    }
    tracing::info!(
        calls,
        within_s = CALLS_GRACE.as_secs(),
        "waiting for the admin calls in flight to answer"
    );
    let deadline = tokio::time::Instant::now() + CALLS_GRACE;
    while crate::connections::calls_in_flight() > 0 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                calls = crate::connections::calls_in_flight(),
                "admin calls still running; stopping without their answers"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(ANSWER_FLUSH).await;
}

/// Waits for the admin server to finish after SIGTERM/SIGINT, at most [`SHUTDOWN_GRACE`].
async fn serve_until_stopped(
    mut admin_task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    // Admin calls in flight may finish; a client that keeps an idle connection open and never
    // answers the server's goodbye must not hold the daemon up (systemctl stop would hang).
    let grace = async {
        let _ = stopping.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = &mut admin_task => {
            served
                .context("admin server task failed")?
                .context("admin server failed")?;
        }
        () = grace => {
            tracing::warn!(
                grace_s = SHUTDOWN_GRACE.as_secs(),
                "admin connections still open after the grace period; stopping anyway"
            );
        }
    }
    Ok(())
}

/// The accepted tokens: the config file's plus the database's.
async fn token_set(config: &Config, store: &Store) -> anyhow::Result<TokenSet> {
    let mut set = TokenSet::default();
    for t in &config.token {
        let hash =
            TokenHash::parse(&t.hash).map_err(|e| anyhow::anyhow!("token {:?}: {e}", t.name))?;
        set.insert(
            hash,
            Caller {
                name: t.name.clone(),
                role: t.role,
            },
        );
    }
    for (name, role, hash) in store
        .list_tokens()
        .await
        .context("cannot read API tokens")?
    {
        set.insert(hash, Caller { name, role });
    }
    Ok(set)
}

/// On the very first start, with no token configured or stored, creates an admin token and
/// writes it to `<state_dir>/admin.token` (mode 0600); only its hash is stored.
async fn bootstrap_admin_token(
    config: &Config,
    store: &Store,
    state_dir: &Path,
) -> anyhow::Result<()> {
    let stored = store
        .list_tokens()
        .await
        .context("cannot read API tokens")?;
    if config.token.is_empty() && stored.is_empty() {
        let path = token::admin_token_path(state_dir);
        let secret = token::generate()?;
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot replace stale {}", path.display()))?;
        }
        token::write_private_file(&path, &format!("{secret}\n"))
            .with_context(|| format!("cannot write the admin token to {}", path.display()))?;
        store
            .insert_token("admin", Role::Admin, TokenHash::of(&secret))
            .await
            .context("cannot store the admin token's hash")?;
        tracing::info!(path = %path.display(), "first start: created an admin API token; ispctl on this host finds it there");
    }
    Ok(())
}

/// SIGHUP (`systemctl reload ispd`): re-read the config file; a bad file is refused and the
/// running configuration keeps serving. Tokens and NAS entries apply at once; the keys read
/// only at start keep their running values, and those changed are named in the log
/// ([`Config::reloaded_over`]).
async fn reload_on_sighup(
    path: Option<PathBuf>,
    config: Arc<Live<Config>>,
    tokens: Arc<Live<TokenSet>>,
    admin_tls: Option<Arc<Live<rustls::ServerConfig>>>,
    store: Store,
    radius: Arc<RadiusService>,
    changes: ChangeFeed,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP: reload is unavailable");
        return;
    };
    while hup.recv().await.is_some() {
        let Some(path) = &path else {
            tracing::info!("SIGHUP: running on built-in defaults, no config file to re-read");
            continue;
        };
        notify_systemd("RELOADING=1");
        match Config::load(path) {
            Err(e) => tracing::error!("reload refused, the running configuration stays: {e:#}"),
            Ok(new) => {
                let (new, waiting) = new.reloaded_over(&config.load());
                if !waiting.is_empty() {
                    tracing::warn!(
                        keys = waiting.join("; "),
                        "changed keys that apply only at a restart keep their running values until then"
                    );
                }
                if let Some(live) = &admin_tls {
                    reload_tls(live, &new.admin);
                }
                match token_set(&new, &store).await {
                    // Nobody could call the API again, not even to add a token back.
                    Ok(set) if set.is_empty() && !tokens.load().is_empty() => {
                        tracing::error!(
                            "reload refused, the running configuration stays: it leaves no API token (every [[token]] removed and none stored)"
                        )
                    }
                    Ok(set) => {
                        tokens.store(set);
                        let open = if radius.addresses.any_pool() || !new.pool.is_empty() {
                            store.open_session_addresses().await.unwrap_or_else(|e| {
                                tracing::warn!(error = %e, "the open sessions' addresses were not read for the reloaded pools; their next accounting holds them");
                                Vec::new()
                            })
                        } else {
                            Vec::new()
                        };
                        let reloaded = radius.reload(&new, open);
                        config.store(Config {
                            loaded_at: Some(radius.clock().now()),
                            ..new
                        });
                        for change in reloaded {
                            changes.publish(change).await;
                        }
                        tracing::info!(path = %path.display(), "configuration reloaded");
                    }
                    Err(e) => {
                        tracing::error!("reload refused, the running configuration stays: {e:#}")
                    }
                }
            }
        }
        notify_systemd("READY=1");
    }
}

/// Bursts from many NASes (after an outage every subscriber reconnects at once) must queue
/// in the kernel rather than be dropped: ask for a large receive buffer.
const UDP_RECEIVE_BUFFER: usize = 4 << 20;

fn bind_udp(addrs: &[SocketAddr], key: &str) -> anyhow::Result<Vec<std::net::UdpSocket>> {
    addrs
        .iter()
        .map(|addr| udp_socket(*addr).with_context(|| format!("{key}: cannot listen on {addr}")))
        .collect()
}

/// The auth addresses, each served by one socket per CPU (`reuseport`).
fn bind_auth(addrs: &[SocketAddr], key: &str) -> anyhow::Result<Vec<std::net::UdpSocket>> {
    let mut sockets = Vec::new();
    for &addr in addrs {
        let group = crate::reuseport::bind_group(addr, |s| prepare_udp(s, addr))
            .with_context(|| format!("{key}: cannot listen on {addr}"))?;
        if let Some(first) = group.first() {
            warn_if_small_buffer(first, addr);
        }
        sockets.extend(group);
    }
    Ok(sockets)
}

fn udp_socket(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    let socket = crate::reuseport::new_socket(addr, &|s| prepare_udp(s, addr))?;
    socket.bind(&addr.into())?;
    let socket = socket.into();
    warn_if_small_buffer(&socket, addr);
    Ok(socket)
}

fn prepare_udp(socket: &socket2::Socket, addr: SocketAddr) -> std::io::Result<()> {
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    let _ = socket.set_recv_buffer_size(UDP_RECEIVE_BUFFER);
    Ok(())
}

fn warn_if_small_buffer(socket: &std::net::UdpSocket, addr: SocketAddr) {
    let granted = socket2::SockRef::from(socket)
        .recv_buffer_size()
        .unwrap_or(0);
    if granted < UDP_RECEIVE_BUFFER {
        tracing::warn!(
            %addr,
            granted,
            wanted = UDP_RECEIVE_BUFFER,
            "small UDP receive buffer: bursts may be dropped; raise net.core.rmem_max"
        );
    }
}

/// Re-reads the admin API's certificate, key and client CA; new connections get them, open
/// ones keep theirs. Files that do not load leave the running ones serving.
fn reload_tls(live: &Live<rustls::ServerConfig>, admin: &crate::config::AdminConfig) {
    match crate::tls::server_config(admin) {
        Ok(Some(config)) => {
            live.store(config);
            tracing::info!("admin TLS certificate re-read");
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!("admin TLS files not reloaded, the running certificate stays: {e:#}")
        }
    }
}

/// `admin_scheme` is `https` when the admin API speaks TLS, so ispctl on this host knows.
fn write_ports(
    state_dir: &Path,
    ports: &BTreeMap<&str, SocketAddr>,
    admin_tls: bool,
) -> anyhow::Result<()> {
    let mut json: BTreeMap<&str, String> = ports.iter().map(|(k, v)| (*k, v.to_string())).collect();
    if admin_tls {
        json.insert("admin_scheme", "https".to_owned());
    }
    let path = state_dir.join("ports.json");
    let tmp = state_dir.join("ports.json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&json)?)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The state directory holds keys and tokens: nobody but the daemon's user reads it.
fn restrict_permissions(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot restrict the state directory to its owner");
    }
}

/// How long admin connections get to close once the calls in flight have answered.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// How long the calls in flight at SIGTERM get to answer: with the grace and the 4 s the
/// accounting writers may take, inside the unit's `TimeoutStopSec=30s`.
const CALLS_GRACE: std::time::Duration = std::time::Duration::from_secs(18);
/// A moment for the server's goodbye (GOAWAY) to leave before idle connections are closed.
const GOAWAY_MOMENT: std::time::Duration = std::time::Duration::from_millis(100);
/// A moment for an answered call's response to leave before the server shuts down.
const ANSWER_FLUSH: std::time::Duration = std::time::Duration::from_millis(200);

/// How long the accounting writers get to finish the batch in hand after the admin server
/// stopped: longer than a batch may wait for the database before it goes to the spool (3 s).
const WRITERS_STOP: std::time::Duration = std::time::Duration::from_secs(4);

#[allow(
    clippy::expect_used,
    reason = "installing a signal handler fails only without a runtime or signal driver, at start"
)]
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing admin calls in flight, then stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
}

/// The watchdog's keep-alive runs while the RADIUS workers live and the SQLite database is
/// still the file opened.
fn keep_alive_while_healthy(radius: &Arc<RadiusService>, database_file: Option<&Path>) {
    if let Some(file) = database_file {
        radius.health.watch_database(file);
    }
    tokio::spawn(watchdog(radius.clone()));
}

/// Under `WatchdogSec=`, systemd restarts a daemon that stops saying it is alive: ping at
/// half the interval it gives in $WATCHDOG_USEC. The ping comes from the runtime, so a
/// wedged runtime stops it, and only while [`crate::health::Health`] finds every RADIUS
/// worker alive and no accounting writer stuck.
async fn watchdog(radius: Arc<RadiusService>) {
    let Some(micros) = std::env::var("WATCHDOG_USEC")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|m| *m > 0)
    else {
        return;
    };
    let mut tick = tokio::time::interval(std::time::Duration::from_micros(micros / 2));
    let mut failing = false;
    loop {
        tick.tick().await;
        match radius.health.verdict(std::time::Instant::now()) {
            Ok(()) => {
                failing = false;
                notify_systemd("WATCHDOG=1");
            }
            Err(problem) if !failing => {
                failing = true;
                tracing::error!(
                    problem,
                    "ispd is wedged: the watchdog keep-alive stops, so systemd restarts it"
                );
            }
            Err(_) => {}
        }
    }
}

/// sd_notify without a library: one datagram to $NOTIFY_SOCKET when systemd asks for it.
/// Our own because the `sd-notify` crate (0.5) cannot reach an abstract-namespace socket
/// (`@name`, as container managers hand out), and it is these twenty lines.
fn notify_systemd(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let socket = match std::os::unix::net::UnixDatagram::unbound() {
        Ok(s) => s,
        Err(_) => return,
    };
    let bytes = path.as_encoded_bytes();
    let result = if let Some(abstract_name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(abstract_name)
            .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
    } else {
        socket.send_to(state.as_bytes(), &path)
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}
