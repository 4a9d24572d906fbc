//! `ispd-bench coa`: a tariff edited for N online sessions. Every session must get its CoA,
//! at the NAS's configured pace, while logins keep being answered as fast as when idle; and
//! one subscription blocked and resumed K times gives the time from the decision (the API
//! call) to the CoA at the NAS.
//!
//! The NAS is a responder in this process on 127.0.0.1: it answers each CoA-Request with a
//! signed CoA-ACK and records when it arrived.

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use ispd_admin_proto::v1;
use ispd_radius::dict::rfc;
use ispd_radius::{Attribute, Code, Packet, PacketRef};
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;

use crate::{daemon, load, seed};

#[derive(clap::Args)]
pub struct CoaArgs {
    /// Online sessions (one per login) on the one tariff that is edited.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// `[enforcement] rate`: CoA requests per second to the NAS.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Access-Requests per second offered while idle and during the push.
    #[arg(long, default_value_t = 2_000)]
    auth_rate: u64,
    /// Single decisions (block, resume, …) timed from the call to the CoA.
    #[arg(long, default_value_t = 100)]
    singles: usize,
    #[arg(long, default_value = "/tmp/ispd-bench-coa")]
    state_dir: PathBuf,
    #[arg(long)]
    pub ispd: Option<PathBuf>,
}

/// The NAS: CoA-ACKs everything and keeps the arrival time of each CoA-Request.
struct Responder {
    port: u16,
    arrivals: Arc<Mutex<Vec<(Instant, String)>>>,
    running: Arc<AtomicBool>,
}

impl Responder {
    fn start() -> anyhow::Result<Responder> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let port = socket.local_addr()?.port();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let running = Arc::new(AtomicBool::new(true));
        let (seen, up) = (arrivals.clone(), running.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while up.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(ack) = answer(&buf[..n], &seen) {
                    let _ = socket.send_to(&ack, from);
                }
            }
        });
        Ok(Responder {
            port,
            arrivals,
            running,
        })
    }

    fn arrivals(&self) -> Vec<(Instant, String)> {
        self.arrivals.lock().map(|a| a.clone()).unwrap_or_default()
    }

    fn count(&self) -> usize {
        self.arrivals.lock().map(|a| a.len()).unwrap_or(0)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
    }
}

fn answer(datagram: &[u8], seen: &Mutex<Vec<(Instant, String)>>) -> Option<Vec<u8>> {
    let at = Instant::now();
    let request = PacketRef::decode(datagram).ok()?;
    if request.code() != Code::CoaRequest {
        return None;
    }
    let session = request
        .first(rfc::ACCT_SESSION_ID)
        .and_then(|a| a.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    seen.lock().ok()?.push((at, session));
    let mut ack = request.reply(Code::CoaAck);
    ack.insert_message_authenticator();
    ack.encode_response(request.authenticator(), seed::SECRET.as_bytes())
        .ok()
}

/// Opens one session per login with Accounting-Request Starts, 256 in flight; each is
/// answered only after its commit, so when all are answered all are in the database.
fn open_sessions(target: SocketAddr, sessions: &[(String, String)]) -> anyhow::Result<()> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(target)?;
    socket.set_read_timeout(Some(Duration::from_millis(200)))?;
    let secret = seed::SECRET.as_bytes();
    let deadline = Instant::now() + Duration::from_secs(120);
    for chunk in sessions.chunks(256) {
        let mut waiting: HashSet<u8> = HashSet::new();
        while Instant::now() < deadline {
            if waiting.is_empty() {
                for (id, (session, user)) in chunk.iter().enumerate() {
                    let id = u8::try_from(id)?;
                    let mut start = Packet::new(Code::AccountingRequest, id, [0; 16]);
                    start.push(Attribute::integer(rfc::ACCT_STATUS_TYPE, 1));
                    start.push(Attribute::string(rfc::ACCT_SESSION_ID, session));
                    start.push(Attribute::string(rfc::USER_NAME, user));
                    socket.send(&start.encode_request(secret)?)?;
                    waiting.insert(id);
                }
            }
            let mut buf = [0u8; 4096];
            match socket.recv(&mut buf) {
                Ok(n) => {
                    if let Ok(reply) = PacketRef::decode(&buf[..n]) {
                        waiting.remove(&reply.identifier());
                    }
                    if waiting.is_empty() {
                        break;
                    }
                }
                // Lost: send the chunk again (a repeated Start is harmless).
                Err(_) => waiting.clear(),
            }
        }
        anyhow::ensure!(waiting.is_empty(), "accounting Starts unanswered");
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub fn coa(args: CoaArgs, ispd: PathBuf) -> anyhow::Result<()> {
    let nas = Responder::start()?;
    let extra = format!(
        "coa_port = {}\n[enforcement]\nrate = {}\nreconcile_interval = 0\n",
        nas.port, args.rate
    );
    println!("seeding {} logins on one tariff", args.sessions);
    seed::seed_with_extra(&args.state_dir, args.sessions, None, &extra)?;
    let daemon = daemon::Daemon::start(&ispd, &args.state_dir)?;
    let started = Instant::now();
    let sessions: Vec<(String, String)> = (0..args.sessions)
        .map(|i| (format!("coa-{i}"), seed::username(i)))
        .collect();
    open_sessions(daemon.acct_addr, &sessions)?;
    println!(
        "{} sessions opened by accounting in {:.1} s",
        args.sessions,
        started.elapsed().as_secs_f64()
    );
    let secret = seed::SECRET.as_bytes();
    let mut idle = load::open_loop(
        load::Workload::Auth,
        daemon.auth_addr,
        secret,
        args.sessions,
        args.auth_rate,
        Duration::from_secs(5),
    )?;
    println!("auth while idle, offered {}/s, 5 s:", args.auth_rate);
    idle.print();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(scenario(&args, &daemon, &nas));
    drop(runtime);
    drop(daemon);
    result
}

async fn scenario(args: &CoaArgs, daemon: &daemon::Daemon, nas: &Responder) -> anyhow::Result<()> {
    let token = std::fs::read_to_string(args.state_dir.join("admin.token"))
        .context("the daemon wrote no admin.token")?;
    let mut bearer = MetadataValue::try_from(format!("Bearer {}", token.trim()))?;
    bearer.set_sensitive(true);
    let channel = Endpoint::from_shared(format!("http://{}", daemon.admin_addr))?
        .connect()
        .await
        .context("cannot connect to the daemon's admin API")?;
    let auth = move |mut request: tonic::Request<()>| {
        request
            .metadata_mut()
            .insert("authorization", bearer.clone());
        Ok(request)
    };
    let mut tariffs = v1::tariff_service_client::TariffServiceClient::with_interceptor(
        channel.clone(),
        auth.clone(),
    );
    let mut subscriptions =
        v1::subscription_service_client::SubscriptionServiceClient::with_interceptor(
            channel.clone(),
            auth.clone(),
        );
    push(args, daemon, nas, &mut tariffs).await?;
    let single = single_login(&channel, auth, &mut subscriptions, daemon.acct_addr).await?;
    singles(args, nas, &mut subscriptions, single).await
}

/// A client of its own with one login, online: the subscription the single decisions change.
async fn single_login<F>(
    channel: &tonic::transport::Channel,
    auth: F,
    subscriptions: &mut Subscriptions<F>,
    acct: SocketAddr,
) -> anyhow::Result<i64>
where
    F: tonic::service::Interceptor + Clone,
{
    let mut clients = v1::client_service_client::ClientServiceClient::with_interceptor(
        channel.clone(),
        auth.clone(),
    );
    let mut logins =
        v1::login_service_client::LoginServiceClient::with_interceptor(channel.clone(), auth);
    clients
        .create_client(v1::CreateClientRequest {
            client: Some(v1::Client {
                number: "2".into(),
                name: "Single".into(),
                address: Some(v1::Address {
                    street: "Loopback 2".into(),
                    postcode: "127".into(),
                    city: "Localhost".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })
        .await?;
    let sub = subscriptions
        .create_subscription(v1::CreateSubscriptionRequest {
            subscription: Some(v1::Subscription {
                client_number: "2".into(),
                tariff: "Bench 100".into(),
                activation_date: "2026-01-01".into(),
                ..Default::default()
            }),
        })
        .await?
        .into_inner();
    logins
        .create_login(v1::CreateLoginRequest {
            login: Some(v1::Login {
                username: "single".into(),
                subscription_id: sub.id,
                ..Default::default()
            }),
            password: "single-password-1".into(),
        })
        .await?;
    let start = vec![("single-1".to_owned(), "single".to_owned())];
    tokio::task::spawn_blocking(move || open_sessions(acct, &start)).await??;
    Ok(sub.id)
}

type Tariffs<F> = v1::tariff_service_client::TariffServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, F>,
>;
type Subscriptions<F> = v1::subscription_service_client::SubscriptionServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, F>,
>;

/// The tariff's speed edited: every session's CoA, the pace, and auth latency meanwhile.
async fn push<F: tonic::service::Interceptor>(
    args: &CoaArgs,
    daemon: &daemon::Daemon,
    nas: &Responder,
    tariffs: &mut Tariffs<F>,
) -> anyhow::Result<()> {
    let mut tariff = tariffs
        .get_tariff(v1::GetTariffRequest {
            name: "Bench 100".into(),
        })
        .await?
        .into_inner();
    tariff.download_kbps = 200_000;
    let expected = Duration::from_secs_f64(args.sessions as f64 / f64::from(args.rate));
    let (auth_addr, sessions, auth_rate) = (daemon.auth_addr, args.sessions, args.auth_rate);
    let load = std::thread::spawn(move || {
        load::open_loop(
            load::Workload::Auth,
            auth_addr,
            seed::SECRET.as_bytes(),
            sessions,
            auth_rate,
            expected,
        )
    });
    let decided = Instant::now();
    tariffs
        .update_tariff(v1::UpdateTariffRequest {
            tariff: Some(tariff),
        })
        .await?;
    let answered = decided.elapsed();
    let deadline = decided + expected * 2 + Duration::from_secs(30);
    while nas.count() < args.sessions && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let arrivals = nas.arrivals();
    let distinct: HashSet<&str> = arrivals.iter().map(|(_, s)| s.as_str()).collect();
    let first = arrivals
        .first()
        .map(|(t, _)| *t - decided)
        .unwrap_or_default();
    let last = arrivals
        .last()
        .map(|(t, _)| *t - decided)
        .unwrap_or_default();
    let pace = arrivals.len().saturating_sub(1) as f64 / (last - first).as_secs_f64().max(1e-9);
    println!(
        "push: tariff edited (the call answered in {:.0} ms); {} CoAs for {} sessions ({} distinct); \
         first after {:.0} ms, last after {:.1} s; pace {:.0}/s (configured {}/s)",
        answered.as_secs_f64() * 1000.0,
        arrivals.len(),
        args.sessions,
        distinct.len(),
        first.as_secs_f64() * 1000.0,
        last.as_secs_f64(),
        pace,
        args.rate
    );
    let mut during = load.join().map_err(|_| anyhow::anyhow!("load thread"))??;
    println!("auth during the push, offered {}/s:", args.auth_rate);
    during.print();
    Ok(())
}

/// One subscription blocked and resumed in turn: decision → CoA at the NAS.
async fn singles<F: tonic::service::Interceptor>(
    args: &CoaArgs,
    nas: &Responder,
    subscriptions: &mut Subscriptions<F>,
    id: i64,
) -> anyhow::Result<()> {
    let mut latencies = Vec::with_capacity(args.singles);
    for k in 0..args.singles {
        let before = nas.count();
        let decided = Instant::now();
        if k % 2 == 0 {
            subscriptions
                .block_subscription(v1::BlockSubscriptionRequest {
                    id,
                    ..Default::default()
                })
                .await?;
        } else {
            subscriptions
                .resume_subscription(v1::ResumeSubscriptionRequest {
                    id,
                    ..Default::default()
                })
                .await?;
        }
        let deadline = decided + Duration::from_secs(10);
        while nas.count() <= before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if let Some((at, _)) = nas.arrivals().get(before) {
            latencies.push(*at - decided);
        }
    }
    latencies.sort_unstable();
    println!(
        "single decisions: {} timed, decision → first CoA at the NAS p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    Ok(())
}
