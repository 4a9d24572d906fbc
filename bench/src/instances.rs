//! `ispd-bench instances`: two ispd processes on one PostgreSQL, as an operator runs them
//! for more capacity or for a RADIUS that stays up through a reboot.
//!
//! 1. Throughput with the load split: the same closed loop as `auth` and `acct`, once against
//!    instance A alone and once against A and B at the same time (half the window each).
//! 2. How far behind the other instance is: changes committed at a fixed rate (each a login's
//!    static address, `UPDATE login SET ipv4`, from a connection of the benchmark's own, so
//!    both instances learn it from the change log as they learn each other's changes), and
//!    for a sample of them the time from the commit's acknowledgement until instance B's
//!    Access-Accept carries the new Framed-IP-Address. Two probers ask B every millisecond;
//!    the lag includes one RADIUS round trip.
//!
//! Needs an empty PostgreSQL database, as `acct --database-url` does.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ispd_radius::dict::rfc;
use ispd_radius::{Attribute, Code, MaPolicy, Packet, PacketRef};

use crate::daemon::Daemon;
use crate::load::{self, Workload};
use crate::seed::{self, SECRET, password, username};

#[derive(clap::Args)]
pub struct InstancesArgs {
    /// The empty PostgreSQL database both instances use.
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 20_000)]
    logins: usize,
    /// Instance A's state directory; B's is beside it with "-b" appended.
    #[arg(long, default_value = "/tmp/ispd-bench-instances")]
    state_dir: PathBuf,
    #[arg(long)]
    pub ispd: Option<PathBuf>,
    /// Requests in flight in each closed loop (split between the instances).
    #[arg(long, default_value_t = 256)]
    window: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Changes committed per second while the lag is measured.
    #[arg(long, default_value_t = 1_000)]
    change_rate: u64,
    #[arg(long, default_value_t = 10)]
    change_seconds: u64,
    /// One change in this many is followed to instance B.
    #[arg(long, default_value_t = 10)]
    sample_every: u64,
}

pub fn instances(args: InstancesArgs, ispd: PathBuf) -> anyhow::Result<()> {
    println!("seeding {} logins into {}", args.logins, args.database_url);
    let state_b = beside(&args.state_dir);
    seed::seed_with(&args.state_dir, args.logins, Some(&args.database_url))?;
    seed::write_config(&state_b, Some(&args.database_url), "")?;
    // Instances on one database share the key their secrets are sealed with.
    std::fs::copy(
        args.state_dir.join("secret.key"),
        state_b.join("secret.key"),
    )
    .context("secret.key of instance A")?;
    let a = Daemon::start(&ispd, &args.state_dir)?;
    let b = Daemon::start(&ispd, &state_b)?;
    let run = Duration::from_secs(args.seconds);
    let acct = |run| Workload::Acct {
        sessions: args.logins,
        run,
    };
    for (name, workload, other_half) in [
        ("auth", Workload::Auth, Workload::Auth),
        ("acct", acct(0), acct(2)),
    ] {
        let port = |d: &Daemon| match workload {
            Workload::Auth | Workload::ForeignAuth => d.auth_addr,
            Workload::Acct { .. } => d.acct_addr,
        };
        let mut alone = load::closed_loop(
            workload,
            port(&a),
            SECRET.as_bytes(),
            args.logins,
            args.window,
            run,
        )?;
        println!(
            "{name}, one instance, {} in flight, {} s:",
            args.window, args.seconds
        );
        alone.print();
        let (to_a, to_b) = (port(&a), port(&b));
        let (logins, half) = (args.logins, args.window / 2);
        let other = std::thread::spawn(move || {
            load::closed_loop(other_half, to_b, SECRET.as_bytes(), logins, half, run)
        });
        let first_half = match workload {
            Workload::Acct { sessions, .. } => Workload::Acct { sessions, run: 1 },
            auth => auth,
        };
        let mut first = load::closed_loop(first_half, to_a, SECRET.as_bytes(), logins, half, run)?;
        let mut second = other.join().expect("load thread")?;
        println!("{name}, split over two instances, {half} in flight each:");
        print!("  A:");
        first.print();
        print!("  B:");
        second.print();
        println!(
            "  together {:.0} answered requests/s",
            first.answered_per_second() + second.answered_per_second()
        );
    }
    lag(&args, b.auth_addr)?;
    drop((a, b));
    Ok(())
}

/// One followed change: the login, its new address and when its commit was acknowledged.
struct Followed {
    login: usize,
    address: Ipv4Addr,
    committed: Instant,
}

fn lag(args: &InstancesArgs, b: SocketAddr) -> anyhow::Result<()> {
    const PROBERS: usize = 2;
    let (tx, rx) = mpsc::channel::<Followed>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let probers: Vec<_> = (0..PROBERS)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || -> anyhow::Result<(Vec<Duration>, u64)> {
                let socket = UdpSocket::bind("127.0.0.1:0")?;
                socket.connect(b)?;
                socket.set_read_timeout(Some(Duration::from_millis(100)))?;
                let (mut lags, mut missed) = (Vec::new(), 0);
                let mut sent = 0u64;
                loop {
                    let next = rx.lock().expect("queue").recv();
                    let Ok(change) = next else {
                        return Ok((lags, missed));
                    };
                    match follow(&socket, &mut sent, &change) {
                        Some(lag) => lags.push(lag),
                        None => missed += 1,
                    }
                }
            })
        })
        .collect();
    let committed = change_at_rate(args, &tx)?;
    drop(tx);
    let (mut lags, mut missed) = (Vec::new(), 0);
    for prober in probers {
        let (l, m) = prober.join().expect("prober")?;
        lags.extend(l);
        missed += m;
    }
    lags.sort_unstable();
    let at = |p: f64| {
        lags.get(((lags.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "change lag, {committed} changes committed in {} s ({:.0}/s offered {}), {} followed to B:",
        args.change_seconds,
        committed as f64 / args.change_seconds as f64,
        args.change_rate,
        lags.len() as u64 + missed
    );
    println!(
        "  commit → B's answer: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; not seen within 5 s: {missed}",
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

/// Commits `change_rate` address changes a second for `change_seconds`, eight in flight;
/// hands every `sample_every`-th to the probers. Returns how many were committed.
fn change_at_rate(args: &InstancesArgs, probe: &mpsc::Sender<Followed>) -> anyhow::Result<u64> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect(&args.database_url)
            .await?;
        // The accounting phase left sessions open, and Simultaneous-Use would refuse their
        // logins: close them as the stale sweep would, and tell the instances the same way.
        sqlx::query("UPDATE session SET stopped_at = updated_at WHERE stopped_at IS NULL")
            .execute(&pool)
            .await?;
        sqlx::query("SELECT CAST(pg_notify('ispd_sessions', '*') AS TEXT)")
            .execute(&pool)
            .await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let ids: Vec<(i64, String)> = sqlx::query_as("SELECT id, username FROM login")
            .fetch_all(&pool)
            .await?;
        let by_name: std::collections::HashMap<String, i64> =
            ids.into_iter().map(|(id, name)| (name, id)).collect();
        let total = args.change_rate * args.change_seconds;
        let interval = Duration::from_secs(1) / args.change_rate.max(1) as u32;
        let started = tokio::time::Instant::now();
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = Vec::with_capacity(total as usize);
        for k in 0..total {
            tokio::time::sleep_until(started + interval * k as u32).await;
            let permit = permits.clone().acquire_owned().await?;
            let login = (k as usize) % args.logins;
            let id = *by_name
                .get(&username(login))
                .context("a seeded login is missing")?;
            // 10.64.0.0/10 and up: a new address for every change, never one in use.
            let address = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 64, 0, 0)) + k as u32);
            let (pool, probe) = (pool.clone(), probe.clone());
            let follow = k % args.sample_every.max(1) == 0;
            tasks.push(tokio::spawn(async move {
                let done = sqlx::query("UPDATE login SET ipv4 = $1 WHERE id = $2")
                    .bind(address.to_string())
                    .bind(id)
                    .execute(&pool)
                    .await;
                drop(permit);
                if done.is_ok() && follow {
                    let _ = probe.send(Followed {
                        login,
                        address,
                        committed: Instant::now(),
                    });
                }
                done.is_ok()
            }));
        }
        let mut committed = 0;
        for task in tasks {
            committed += u64::from(task.await?);
        }
        anyhow::Ok(committed)
    })
}

/// Asks B for the login until its Accept carries the new address; the time from the commit,
/// or `None` after 5 s.
fn follow(socket: &UdpSocket, sent: &mut u64, change: &Followed) -> Option<Duration> {
    let deadline = change.committed + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        *sent += 1;
        let id = *sent as u8;
        let authenticator = request_authenticator(*sent, change);
        let mut packet = Packet::new(Code::AccessRequest, id, authenticator);
        packet.push(Attribute::string(rfc::USER_NAME, &username(change.login)));
        let hidden = ispd_radius::password::hide(
            password(change.login).as_bytes(),
            SECRET.as_bytes(),
            &authenticator,
        )
        .ok()?;
        packet.push(Attribute::new(rfc::USER_PASSWORD, hidden));
        packet.insert_message_authenticator();
        let bytes = packet.encode_request(SECRET.as_bytes()).ok()?;
        socket.send(&bytes).ok()?;
        if let Ok(n) = socket.recv(&mut buf)
            && let Ok(reply) = PacketRef::decode(&buf[..n])
            && reply.identifier() == id
            && reply
                .verify_response(&authenticator, SECRET.as_bytes(), MaPolicy::Required)
                .is_ok()
            && reply
                .first(rfc::FRAMED_IP_ADDRESS)
                .and_then(|a| a.as_ipv4().ok())
                == Some(change.address)
        {
            return Some(change.committed.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// Distinct Request Authenticators without a random source: the prober's request count and
/// the change's address, so no request is taken for a retransmission of another.
fn request_authenticator(sent: u64, change: &Followed) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&sent.to_le_bytes());
    out[8..12].copy_from_slice(&u32::from(change.address).to_le_bytes());
    out
}

/// The state directory of instance B for A's `state_dir`.
fn beside(state_dir: &Path) -> PathBuf {
    PathBuf::from(format!("{}-b", state_dir.display()))
}
