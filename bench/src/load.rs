//! Closed- and open-loop RADIUS load over UDP on loopback. Every reply's Response
//! Authenticator and Message-Authenticator is checked; a reply that fails counts as
//! unanswered.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ispd_radius::dict::rfc;
use ispd_radius::{Attribute, Code, MaPolicy, Packet, PacketRef};

use crate::seed::{password, username};

/// Sockets (and threads) the load is spread over: each has 256 RADIUS identifiers.
const THREADS: usize = 2;
/// After the last send, how long replies are awaited before the rest count as unanswered.
const DRAIN: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Report {
    pub sent: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub unanswered: u64,
    pub elapsed: Duration,
    /// CPU time (user + system) the server's process used over the loop, when its process
    /// is known: the work per request, steadier than a rate on a machine shared with the
    /// load generator.
    pub server_cpu_seconds: Option<f64>,
    latencies_us: Vec<u32>,
}

impl Report {
    fn merge(&mut self, other: Report) {
        self.sent += other.sent;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.unanswered += other.unanswered;
        self.elapsed = self.elapsed.max(other.elapsed);
        self.latencies_us.extend(other.latencies_us);
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }

    pub fn answered_per_second(&self) -> f64 {
        (self.accepted + self.rejected) as f64 / self.elapsed.as_secs_f64()
    }

    pub fn print(&mut self) {
        self.latencies_us.sort_unstable();
        let answered = self.accepted + self.rejected;
        println!(
            "  sent {}, answered {} ({} accept, {} reject), unanswered {}",
            self.sent, answered, self.accepted, self.rejected, self.unanswered
        );
        println!(
            "  {:.0} answered requests/s; latency p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
            answered as f64 / self.elapsed.as_secs_f64(),
            self.percentile(0.50),
            self.percentile(0.99),
            self.percentile(0.999),
            self.percentile(1.0),
        );
        if let Some(cpu) = self.server_cpu_seconds
            && answered > 0
        {
            println!(
                "  server CPU {:.1} µs per answered request ({cpu:.2} s over the loop)",
                cpu * 1e6 / answered as f64
            );
        }
    }
}

/// What the generator sends.
#[derive(Debug, Clone, Copy)]
pub enum Workload {
    /// PAP Access-Requests with Message-Authenticator, cycling through the logins; every
    /// reply must carry a valid Message-Authenticator (ispd signs all of them).
    Auth,
    /// The same requests to another server: a reply's Message-Authenticator is checked when
    /// present (FreeRADIUS 3.2 puts none in an Access-Accept).
    ForeignAuth,
    /// Start, Interim-Update and Stop for each of `sessions` sessions in turn, then again
    /// with new session ids; `run` keeps the ids of concurrent runs apart.
    Acct { sessions: usize, run: u8 },
}

/// One request slot per RADIUS identifier of a socket.
struct Slots {
    workload: Workload,
    pending: Vec<Option<(Instant, [u8; 16])>>,
    next_login: usize,
    /// Slots of one run interleave their logins: slot `t` of `n` takes t, t+n, t+2n...
    step: usize,
    authenticator_seed: u64,
}

impl Slots {
    fn new(workload: Workload, first_login: usize, step: usize) -> Slots {
        Slots {
            workload,
            pending: vec![None; 256],
            next_login: first_login,
            step,
            authenticator_seed: 0x9E37_79B9_7F4A_7C15 ^ first_login as u64,
        }
    }

    /// Builds a signed PAP Access-Request for the next login into identifier `id`.
    fn request(&mut self, id: u8, logins: usize, secret: &[u8]) -> Vec<u8> {
        // xorshift: distinct Request Authenticators without a random source.
        let mut authenticator = [0u8; 16];
        for chunk in authenticator.chunks_mut(8) {
            self.authenticator_seed ^= self.authenticator_seed << 13;
            self.authenticator_seed ^= self.authenticator_seed >> 7;
            self.authenticator_seed ^= self.authenticator_seed << 17;
            chunk.copy_from_slice(&self.authenticator_seed.to_le_bytes());
        }
        let n = self.next_login;
        self.next_login += self.step;
        let bytes = match self.workload {
            Workload::Auth | Workload::ForeignAuth => {
                let i = n % logins;
                let mut packet = Packet::new(Code::AccessRequest, id, authenticator);
                packet.push(Attribute::string(rfc::USER_NAME, &username(i)));
                let hidden =
                    ispd_radius::password::hide(password(i).as_bytes(), secret, &authenticator)
                        .expect("short password");
                packet.push(Attribute::new(rfc::USER_PASSWORD, hidden));
                packet.insert_message_authenticator();
                packet.encode_request(secret).expect("small packet")
            }
            Workload::Acct { sessions, run } => {
                let session = (n / 3) % sessions;
                let cycle = n / (3 * sessions);
                let (status, seconds) = match n % 3 {
                    0 => (1, 0),
                    1 => (3, 300),
                    _ => (2, 600),
                };
                let mut packet = Packet::new(Code::AccountingRequest, id, [0; 16]);
                packet.push(Attribute::integer(rfc::ACCT_STATUS_TYPE, status));
                packet.push(Attribute::string(
                    rfc::ACCT_SESSION_ID,
                    &format!("b{run}-{session:06}-{cycle}"),
                ));
                packet.push(Attribute::string(
                    rfc::USER_NAME,
                    &username(session % logins),
                ));
                // What every NAS sends; FreeRADIUS's SQL queries store it.
                packet.push(Attribute::ipv4(
                    rfc::NAS_IP_ADDRESS,
                    std::net::Ipv4Addr::LOCALHOST,
                ));
                packet.push(Attribute::integer(rfc::ACCT_SESSION_TIME, seconds));
                packet.push(Attribute::integer(rfc::ACCT_INPUT_OCTETS, seconds * 1000));
                packet.push(Attribute::integer(rfc::ACCT_OUTPUT_OCTETS, seconds * 8000));
                packet.encode_request(secret).expect("small packet")
            }
        };
        // Accounting-Requests carry a computed authenticator: take it from the wire bytes.
        authenticator.copy_from_slice(&bytes[4..20]);
        self.pending[usize::from(id)] = Some((Instant::now(), authenticator));
        bytes
    }

    /// Accounts for a reply; false when it matches no pending request or fails verification.
    fn reply(&mut self, datagram: &[u8], secret: &[u8], report: &mut Report) -> Option<u8> {
        let packet = PacketRef::decode(datagram).ok()?;
        let id = packet.identifier();
        let (sent_at, authenticator) = self.pending[usize::from(id)]?;
        let policy = match self.workload {
            Workload::Auth => MaPolicy::Required,
            Workload::ForeignAuth | Workload::Acct { .. } => MaPolicy::IfPresent,
        };
        packet
            .verify_response(&authenticator, secret, policy)
            .ok()?;
        self.pending[usize::from(id)] = None;
        report
            .latencies_us
            .push(sent_at.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        match packet.code() {
            Code::AccessAccept | Code::AccountingResponse => report.accepted += 1,
            _ => report.rejected += 1,
        }
        Some(id)
    }

    fn outstanding(&self) -> u64 {
        self.pending.iter().filter(|p| p.is_some()).count() as u64
    }
}

fn socket(target: SocketAddr) -> anyhow::Result<UdpSocket> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(target)?;
    Ok(socket)
}

/// Keeps `window` requests in flight for `duration`: the throughput the daemon sustains.
pub fn closed_loop(
    workload: Workload,
    target: SocketAddr,
    secret: &[u8],
    logins: usize,
    window: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let per_thread = (window / THREADS).clamp(1, 255);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let secret = secret.to_vec();
            std::thread::spawn(move || -> anyhow::Result<Report> {
                let socket = socket(target)?;
                socket.set_read_timeout(Some(Duration::from_millis(200)))?;
                let mut slots = Slots::new(workload, t, THREADS);
                let mut report = Report::default();
                let mut buf = [0u8; 4096];
                let started = Instant::now();
                for id in 0..per_thread {
                    socket.send(&slots.request(id as u8, logins, &secret))?;
                    report.sent += 1;
                }
                while started.elapsed() < duration {
                    match socket.recv(&mut buf) {
                        Ok(n) => {
                            if let Some(id) = slots.reply(&buf[..n], &secret, &mut report) {
                                socket.send(&slots.request(id, logins, &secret))?;
                                report.sent += 1;
                            }
                        }
                        Err(_) => {
                            // Requests older than a second are lost: count them, reuse the ids.
                            for id in 0..per_thread {
                                if let Some((at, _)) = slots.pending[id]
                                    && at.elapsed() > Duration::from_secs(1)
                                {
                                    report.unanswered += 1;
                                    socket.send(&slots.request(id as u8, logins, &secret))?;
                                    report.sent += 1;
                                }
                            }
                        }
                    }
                }
                report.elapsed = started.elapsed();
                drain(&socket, &mut slots, &secret, &mut report);
                Ok(report)
            })
        })
        .collect();
    collect(handles)
}

/// Offers `rate` requests per second for `duration`, whatever the answers: the latency an
/// operator's NASes see at that load, and whether anything is lost. One pacing thread sends
/// round-robin over several sockets (more identifiers in flight); one thread per socket
/// blocks in recv, so replies are timed when they arrive.
pub fn open_loop(
    workload: Workload,
    target: SocketAddr,
    secret: &[u8],
    logins: usize,
    rate: u64,
    duration: Duration,
) -> anyhow::Result<Report> {
    const SOCKETS: usize = 4;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let sockets: Vec<Arc<UdpSocket>> = (0..SOCKETS)
        .map(|_| socket(target).map(Arc::new))
        .collect::<anyhow::Result<_>>()?;
    let slots: Vec<Arc<Mutex<Slots>>> = (0..SOCKETS)
        .map(|t| Arc::new(Mutex::new(Slots::new(workload, t, SOCKETS))))
        .collect();
    let sending = Arc::new(AtomicBool::new(true));
    let receivers: Vec<_> = (0..SOCKETS)
        .map(|i| {
            let socket = sockets[i].clone();
            let slots = slots[i].clone();
            let sending = sending.clone();
            let secret = secret.to_vec();
            std::thread::spawn(move || -> anyhow::Result<Report> {
                let mut report = Report::default();
                let mut buf = [0u8; 4096];
                socket.set_read_timeout(Some(Duration::from_millis(100)))?;
                while sending.load(Ordering::Relaxed) {
                    if let Ok(n) = socket.recv(&mut buf) {
                        let mut slots = slots.lock().expect("slots");
                        slots.reply(&buf[..n], &secret, &mut report);
                    }
                }
                let mut slots = slots.lock().expect("slots");
                drain(&socket, &mut slots, &secret, &mut report);
                Ok(report)
            })
        })
        .collect();
    let mut sender = Report::default();
    let started = Instant::now();
    let mut next_send = started;
    let mut ids = [0u8; SOCKETS];
    let mut n = 0usize;
    while started.elapsed() < duration {
        let now = Instant::now();
        if now < next_send {
            // nanosleep, not a socket timeout: SO_RCVTIMEO ticks in jiffies and would turn
            // the offered load into bursts.
            std::thread::sleep(next_send - now);
            continue;
        }
        let k = n % SOCKETS;
        let id = ids[k];
        let request = {
            let mut slots = slots[k].lock().expect("slots");
            if slots.pending[usize::from(id)].is_some() {
                // Still unanswered after a full lap of 256 identifiers.
                sender.unanswered += 1;
            }
            slots.request(id, logins, secret)
        };
        sockets[k].send(&request)?;
        sender.sent += 1;
        ids[k] = id.wrapping_add(1);
        n += 1;
        next_send += interval;
    }
    sender.elapsed = started.elapsed();
    sending.store(false, Ordering::Relaxed);
    let mut total = collect(receivers)?;
    total.merge(sender);
    Ok(total)
}

fn drain(socket: &UdpSocket, slots: &mut Slots, secret: &[u8], report: &mut Report) {
    let until = Instant::now() + DRAIN;
    let mut buf = [0u8; 4096];
    let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
    while slots.outstanding() > 0 && Instant::now() < until {
        if let Ok(n) = socket.recv(&mut buf) {
            slots.reply(&buf[..n], secret, report);
        }
    }
    report.unanswered += slots.outstanding();
}

fn collect(
    handles: Vec<std::thread::JoinHandle<anyhow::Result<Report>>>,
) -> anyhow::Result<Report> {
    let mut total = Report::default();
    for handle in handles {
        let report = handle
            .join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))??;
        total.merge(report);
    }
    Ok(total)
}
