//! An auth address served by one socket per CPU.
//!
//! With one socket, every receive thread waits on the same queue, and a datagram wakes a
//! thread wherever it sleeps. Here each CPU gets a socket of its own, all bound to the one
//! address as an `SO_REUSEPORT` group, and a classic BPF program on the group hands each
//! datagram to the socket of the CPU that received it (`SKF_AD_CPU` modulo the group's size).
//! A hash of the sender's address would not do: one NAS, or the load generator, sends from
//! one port, and would land on one socket. Measured with `ispd-bench auth --logins 100000
//! --window 64`, five alternated pairs: 112,200–113,700/s (one run 99,600) with one socket,
//! 112,400–124,300/s (median 120,500) with the group, the closed loop's p99 1.4–1.7 ms
//! instead of 1.9–2.1 ms.
//!
//! Written here because socket2 exposes no call that attaches a reuse-port group's program;
//! it is one `setsockopt`, the daemon's second `unsafe` block (the first is `heap.rs`).
//!
//! A port already in use is refused as before: the address is first bound by a plain socket,
//! without `SO_REUSEPORT`, which fails if anything holds the port — another ispd's group
//! included — so a second daemon never silently takes half of the requests. (Linux lets only
//! a process of the same effective user join a group at all.) When the program cannot be
//! attached (an old kernel, a sandbox), the address is served by one socket.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};

/// Sockets a group has at most: beyond it, CPUs share sockets (the program spreads them
/// modulo the group's size).
const MOST: usize = 16;

/// Binds `addr` as one socket per CPU (see the module); `prepare` sets up each socket before
/// it is bound (its receive buffer, IPv6-only). Returns the sockets, the first one's address
/// being the one the port 0 of `addr` resolved to.
pub fn bind_group(
    addr: SocketAddr,
    prepare: impl Fn(&Socket) -> io::Result<()>,
) -> io::Result<Vec<UdpSocket>> {
    let plain = new_socket(addr, &prepare)?;
    plain.bind(&addr.into())?;
    let size = std::thread::available_parallelism().map_or(1, |n| n.get().min(MOST));
    if size < 2 {
        return Ok(vec![plain.into()]);
    }
    let bound = plain
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("a UDP socket without an IP address"))?;
    drop(plain);
    match group(bound, size, &prepare) {
        Ok(sockets) => {
            tracing::info!(%bound, sockets = size, "auth address served by one socket per CPU");
            Ok(sockets)
        }
        Err(e) => {
            tracing::info!(%bound, error = %e, "one socket per CPU not available: one socket serves");
            let plain = new_socket(bound, &prepare)?;
            plain.bind(&bound.into())?;
            Ok(vec![plain.into()])
        }
    }
}

/// A UDP socket for `addr`'s family, set up by `prepare`, not yet bound (the acct port's
/// sockets are made here too).
pub(crate) fn new_socket(
    addr: SocketAddr,
    prepare: &impl Fn(&Socket) -> io::Result<()>,
) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    prepare(&socket)?;
    Ok(socket)
}

/// `size` sockets on `bound`, the steering program on the first (it serves the group).
fn group(
    bound: SocketAddr,
    size: usize,
    prepare: &impl Fn(&Socket) -> io::Result<()>,
) -> io::Result<Vec<UdpSocket>> {
    let mut sockets = Vec::with_capacity(size);
    for i in 0..size {
        let socket = new_socket(bound, prepare)?;
        socket.set_reuse_port(true)?;
        socket.bind(&bound.into())?;
        if i == 0 {
            steer_by_cpu(&socket, size)?;
        }
        sockets.push(socket.into());
    }
    Ok(sockets)
}

/// Attaches to the group of `socket` the classic BPF program "return the receiving CPU
/// modulo `size`": the index of the socket, in binding order, that gets the datagram.
fn steer_by_cpu(socket: &Socket, size: usize) -> io::Result<()> {
    // linux/filter.h: BPF_LD|BPF_W|BPF_ABS at SKF_AD_OFF + SKF_AD_CPU, BPF_ALU|BPF_MOD|BPF_K,
    // BPF_RET|BPF_A; asm-generic/socket.h: SO_ATTACH_REUSEPORT_CBPF.
    const LOAD_CPU: u16 = 0x20;
    const SKF_AD_CPU: u32 = (-0x1000_i32 + 36) as u32;
    const MODULO: u16 = 0x04 | 0x90;
    const RETURN_A: u16 = 0x06 | 0x10;
    const SO_ATTACH_REUSEPORT_CBPF: libc::c_int = 51;
    let size = u32::try_from(size).map_err(io::Error::other)?;
    let mut program = [
        libc::sock_filter {
            code: LOAD_CPU,
            jt: 0,
            jf: 0,
            k: SKF_AD_CPU,
        },
        libc::sock_filter {
            code: MODULO,
            jt: 0,
            jf: 0,
            k: size,
        },
        libc::sock_filter {
            code: RETURN_A,
            jt: 0,
            jf: 0,
            k: 0,
        },
    ];
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `program`, both alive for the call; the kernel copies the
    // program and checks its instructions before it attaches it, and reads `size_of`
    // `sock_fprog` bytes from the pointer it is given.
    let done = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ATTACH_REUSEPORT_CBPF,
            (&raw const fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn nothing(_: &Socket) -> io::Result<()> {
        Ok(())
    }

    #[test]
    fn a_group_shares_one_address_receives_on_it_and_keeps_it_to_itself() {
        let group = bind_group("127.0.0.1:0".parse().unwrap(), nothing).unwrap();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get().min(MOST));
        assert_eq!(group.len(), cpus, "one socket per CPU");
        let addr = group[0].local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        for socket in &group {
            assert_eq!(socket.local_addr().unwrap(), addr);
            socket.set_nonblocking(true).unwrap();
        }
        // Taken: a plain socket, and a second group, are both refused.
        let taken = bind_group(addr, nothing).unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse);
        assert!(UdpSocket::bind(addr).is_err());
        // Every datagram reaches exactly one socket of the group.
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..20u8 {
            sender.send_to(&[i], addr).unwrap();
        }
        let mut received = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while received.len() < 20 && std::time::Instant::now() < deadline {
            for socket in &group {
                let mut buf = [0u8; 8];
                if let Ok((1, _)) = socket.recv_from(&mut buf) {
                    received.push(buf[0]);
                }
            }
        }
        received.sort_unstable();
        assert_eq!(received, (0..20).collect::<Vec<u8>>());
    }
}
