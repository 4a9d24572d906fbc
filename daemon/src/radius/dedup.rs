//! RFC 5080 §2.2.2 duplicate detection: a retransmission (same source, Identifier and
//! Request Authenticator) within the window gets the reply we already sent, byte for byte,
//! instead of a second evaluation.
//!
//! One reply is kept per source address and port and Identifier, as FreeRADIUS keeps one
//! request: a NAS uses an Identifier again only once it is done with the request that had it
//! (answered, or given up), so a new Request Authenticator under the same Identifier is a new
//! request and its reply takes the old one's place. A NAS socket thus holds at most 256
//! replies, whatever the load: the cache stays small enough to sit in the processor's cache,
//! a reply is copied into the buffer of the one it replaces (no allocation per request), and
//! every reply stays for the whole window — keyed by the Request Authenticator too, the cache
//! held one entry per request, and at 125,000 requests/s its 100,000 covered 0.8 s of the
//! five.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;

/// Where a request came from and its Identifier: the NAS's own name for a request in flight.
type Key = (SocketAddr, u8);

/// Parts the cache is split into, each under its own lock, so that the receive threads
/// rarely wait for each other. A key always lands in the same part, so a retransmission
/// finds its reply.
const SHARDS: usize = 16;

/// Bounded: a part holds at most its share of `capacity` replies. Only known NAS devices
/// reach it, 256 replies per source port; a part that fills anyway (a NAS sending from
/// thousands of ports within the window) lets its expired replies go, and while none has
/// expired, one reply at random for each new one. Keys are hashed with a per-process random
/// seed (foldhash: the keys come only from known NAS devices, so SipHash's extra cost buys
/// nothing here).
pub struct ReplyCache {
    window: Duration,
    capacity: usize,
    hasher: RandomState,
    shards: Box<[Mutex<Shard>]>,
}

#[derive(Default)]
struct Shard {
    replies: HashMap<Key, Reply, RandomState>,
    /// When expired replies were last let go: at most once a window, so a flood that keeps
    /// a part full does not make every request walk it.
    swept: Option<Instant>,
}

struct Reply {
    authenticator: [u8; 16],
    at: Instant,
    bytes: Vec<u8>,
}

impl ReplyCache {
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.div_ceil(SHARDS).max(1),
            hasher: RandomState::default(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// The reply sent to this request within the window, if any.
    pub fn get(&self, from: SocketAddr, id: u8, authenticator: &[u8; 16]) -> Option<Vec<u8>> {
        let key = (from, id);
        let shard = self.shard(&key);
        let reply = shard.replies.get(&key)?;
        (reply.authenticator == *authenticator && reply.at.elapsed() < self.window)
            .then(|| reply.bytes.clone())
    }

    /// Keeps `reply` as the answer to this request, in place of the last one with its
    /// Identifier from `from`.
    pub fn put(&self, from: SocketAddr, id: u8, authenticator: [u8; 16], reply: &[u8]) {
        let now = Instant::now();
        let key = (from, id);
        let mut shard = self.shard(&key);
        if let Some(kept) = shard.replies.get_mut(&key) {
            kept.authenticator = authenticator;
            kept.at = now;
            kept.bytes.clear();
            kept.bytes.extend_from_slice(reply);
            return;
        }
        if shard.replies.len() >= self.capacity {
            shard.make_room(now, self.window, self.capacity);
        }
        shard.replies.insert(
            key,
            Reply {
                authenticator,
                at: now,
                bytes: reply.to_vec(),
            },
        );
    }

    fn shard(&self, key: &Key) -> MutexGuard<'_, Shard> {
        // The high bits: the map inside the part indexes by the low ones.
        let index = (self.hasher.hash_one(key) >> 60) as usize % SHARDS;
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Shard {
    /// Room for one more reply: the expired ones go (at most once a window), else any one.
    fn make_room(&mut self, now: Instant, window: Duration, capacity: usize) {
        if self
            .swept
            .is_none_or(|swept| now.duration_since(swept) >= window)
        {
            self.swept = Some(now);
            self.replies
                .retain(|_, reply| now.duration_since(reply.at) < window);
        }
        if self.replies.len() >= capacity
            && let Some(&any) = self.replies.keys().next()
        {
            self.replies.remove(&any);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_within_the_window_and_forgets_after() {
        let cache = ReplyCache::new(Duration::from_millis(50), 10);
        let from: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        cache.put(from, 7, [1; 16], &[9, 9]);
        assert_eq!(cache.get(from, 7, &[1; 16]), Some(vec![9, 9]));
        assert_eq!(cache.get(from, 8, &[1; 16]), None, "another identifier");
        assert_eq!(cache.get(from, 7, &[2; 16]), None, "another authenticator");
        assert_eq!(
            cache.get("127.0.0.1:1001".parse().unwrap(), 7, &[1; 16]),
            None
        );
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(from, 7, &[1; 16]), None);
    }

    #[test]
    fn an_identifier_used_again_is_a_new_request() {
        let cache = ReplyCache::new(Duration::from_secs(60), 1000);
        let from: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        cache.put(from, 7, [1; 16], &[1, 1, 1]);
        cache.put(from, 7, [2; 16], &[2]);
        assert_eq!(cache.get(from, 7, &[2; 16]), Some(vec![2]));
        assert_eq!(
            cache.get(from, 7, &[1; 16]),
            None,
            "the old request is done"
        );
    }

    #[test]
    fn capacity_is_bounded() {
        let cache = ReplyCache::new(Duration::from_secs(60), 3 * SHARDS);
        for port in 1000..1100u16 {
            let from = SocketAddr::from(([127, 0, 0, 1], port));
            for id in 0..=255u8 {
                cache.put(from, id, [0; 16], &[id]);
            }
        }
        let kept: usize = cache
            .shards
            .iter()
            .map(|s| s.lock().unwrap().replies.len())
            .sum();
        assert!(kept <= 3 * SHARDS, "{kept} kept");
        let newest = SocketAddr::from(([127, 0, 0, 1], 1099));
        assert_eq!(
            cache.get(newest, 255, &[0; 16]),
            Some(vec![255]),
            "the newest reply is always kept"
        );
    }

    #[test]
    fn a_full_part_lets_its_expired_replies_go_first() {
        let cache = ReplyCache::new(Duration::from_millis(20), 4 * SHARDS);
        let from = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        // Every part full of replies that then expire.
        for port in 0..1000u16 {
            cache.put(from(port), 1, [0; 16], &[1]);
        }
        std::thread::sleep(Duration::from_millis(30));
        cache.put(from(5000), 2, [0; 16], &[2]);
        assert_eq!(cache.get(from(5000), 2, &[0; 16]), Some(vec![2]));
        let part = cache.shard(&(from(5000), 2));
        assert_eq!(
            part.replies.len(),
            1,
            "the expired replies went, not one of them"
        );
    }
}
