//! RFC 5080 §2.2.2 duplicate detection: a retransmission (same source, Identifier and
//! Request Authenticator) within the window gets the reply we already sent, byte for byte,
//! instead of a second evaluation.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;

type Key = (SocketAddr, u8, [u8; 16]);

/// Parts the cache is split into, each under its own lock. Under steady load every request
/// inserts one reply and evicts one, and now and then a map rebuilds itself to clear what
/// was removed: in one map of 100,000 replies that stalls every receive thread for
/// milliseconds, the slowest answers of all; in a sixteenth it is short and stalls only the
/// requests of that part. A key always lands in the same part, so a retransmission finds its
/// reply.
const SHARDS: usize = 16;

/// Bounded: in each part the oldest entries go first when its share of `capacity` is
/// reached. Keys are hashed with a per-process random seed (foldhash: the keys come only
/// from known NAS devices, so SipHash's extra cost buys nothing here).
pub struct ReplyCache {
    window: Duration,
    capacity: usize,
    hasher: RandomState,
    shards: Box<[Mutex<Shard>]>,
}

#[derive(Default)]
struct Shard {
    replies: HashMap<Key, (Instant, Vec<u8>), RandomState>,
    order: VecDeque<(Instant, Key)>,
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
        let key = (from, id, *authenticator);
        let shard = self.shard(&key);
        let (at, reply) = shard.replies.get(&key)?;
        (at.elapsed() < self.window).then(|| reply.clone())
    }

    pub fn put(&self, from: SocketAddr, id: u8, authenticator: [u8; 16], reply: Vec<u8>) {
        let now = Instant::now();
        let key = (from, id, authenticator);
        let mut shard = self.shard(&key);
        shard.expire(now, self.window);
        while shard.order.len() >= self.capacity {
            match shard.order.pop_front() {
                Some((_, old)) => {
                    shard.replies.remove(&old);
                }
                None => break,
            }
        }
        if shard.replies.insert(key, (now, reply)).is_none() {
            shard.order.push_back((now, key));
        }
    }

    fn shard(&self, key: &Key) -> MutexGuard<'_, Shard> {
        // The high bits: the map inside the part indexes by the low ones.
        let index = (self.hasher.hash_one(key) >> 60) as usize % SHARDS;
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Shard {
    fn expire(&mut self, now: Instant, window: Duration) {
        while let Some((at, key)) = self.order.front().copied() {
            if now.duration_since(at) < window {
                break;
            }
            self.order.pop_front();
            self.replies.remove(&key);
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
        cache.put(from, 7, [1; 16], vec![9, 9]);
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
    fn capacity_is_bounded() {
        let cache = ReplyCache::new(Duration::from_secs(60), 3 * SHARDS);
        let from: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        for id in 0..=255u8 {
            cache.put(from, id, [0; 16], vec![id]);
        }
        let kept = (0..=255u8)
            .filter(|&id| cache.get(from, id, &[0; 16]).is_some())
            .count();
        assert!(kept <= 3 * SHARDS, "{kept} kept");
        assert_eq!(
            cache.get(from, 255, &[0; 16]),
            Some(vec![255]),
            "the newest reply is always kept"
        );
    }
}
