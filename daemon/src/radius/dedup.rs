//! RFC 5080 §2.2.2 duplicate detection: a retransmission (same source, Identifier and
//! Request Authenticator) within the window gets the reply we already sent, byte for byte,
//! instead of a second evaluation.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

type Key = (SocketAddr, u8, [u8; 16]);

/// Bounded: the oldest entries go first when `capacity` is reached.
pub struct ReplyCache {
    window: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    replies: HashMap<Key, Vec<u8>>,
    order: VecDeque<(Instant, Key)>,
}

impl ReplyCache {
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn get(&self, from: SocketAddr, id: u8, authenticator: &[u8; 16]) -> Option<Vec<u8>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Self::expire(&mut inner, Instant::now(), self.window);
        inner.replies.get(&(from, id, *authenticator)).cloned()
    }

    pub fn put(&self, from: SocketAddr, id: u8, authenticator: [u8; 16], reply: Vec<u8>) {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Self::expire(&mut inner, now, self.window);
        while inner.order.len() >= self.capacity {
            match inner.order.pop_front() {
                Some((_, key)) => {
                    inner.replies.remove(&key);
                }
                None => break,
            }
        }
        let key = (from, id, authenticator);
        if inner.replies.insert(key, reply).is_none() {
            inner.order.push_back((now, key));
        }
    }

    fn expire(inner: &mut Inner, now: Instant, window: Duration) {
        while let Some((at, key)) = inner.order.front().copied() {
            if now.duration_since(at) < window {
                break;
            }
            inner.order.pop_front();
            inner.replies.remove(&key);
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
        let cache = ReplyCache::new(Duration::from_secs(60), 3);
        let from: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        for id in 0..5u8 {
            cache.put(from, id, [0; 16], vec![id]);
        }
        assert_eq!(cache.get(from, 0, &[0; 16]), None);
        assert_eq!(cache.get(from, 1, &[0; 16]), None);
        assert_eq!(cache.get(from, 4, &[0; 16]), Some(vec![4]));
    }
}
