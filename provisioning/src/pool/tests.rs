use super::*;

fn ip(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000 + seconds, 0).unwrap()
}

/// A record of `holder`'s session from the NAS "n", of `event`, arriving then.
fn heard(holder: &Holder, event: DateTime<Utc>) -> Heard<'_> {
    Heard {
        holder,
        nas: "n",
        event,
        now: event,
    }
}

fn holder(username: &str, device: &str) -> Holder {
    Holder {
        username: username.into(),
        device: device.into(),
    }
}

fn spec(name: &str, nas: &[&str], ranges: &[&str]) -> PoolSpec {
    PoolSpec {
        name: name.into(),
        nas: nas.iter().map(|n| (*n).to_owned()).collect(),
        ranges: ranges.iter().map(|r| r.parse().unwrap()).collect(),
        prefixes: Vec::new(),
    }
}

fn prefix(text: &str) -> Ipv6Prefix {
    text.parse().unwrap()
}

/// A pool of IPv6 blocks cut into prefixes of `delegated` bits.
fn v6_spec(name: &str, blocks: &[&str], delegated: u8) -> PoolSpec {
    PoolSpec {
        prefixes: blocks
            .iter()
            .map(|b| PrefixBlock::new(prefix(b), delegated).unwrap())
            .collect(),
        ..spec(name, &[], &[])
    }
}

/// Logins' static addresses and prefixes, as the access cache would tell them.
#[derive(Default)]
struct Fixed {
    ipv4: Vec<Ipv4Addr>,
    prefixes: Vec<Ipv6Prefix>,
}

impl Statics for Fixed {
    fn has_ipv4(&self, ip: Ipv4Addr) -> bool {
        self.ipv4.contains(&ip)
    }

    fn overlaps_prefix(&self, p: Ipv6Prefix) -> bool {
        self.prefixes.iter().any(|s| s.overlaps(&p))
    }

    fn prefixes(&self) -> Vec<Ipv6Prefix> {
        self.prefixes.clone()
    }
}

const NONE: Fixed = Fixed {
    ipv4: Vec::new(),
    prefixes: Vec::new(),
};

/// The IPv4 address an offer carries.
fn offer4(
    pools: &mut Pools,
    pool_nas: (&str, &str),
    who: &Holder,
    now: DateTime<Utc>,
    statics: &Fixed,
) -> Option<Ipv4Addr> {
    pools
        .offer(pool_nas, who, false, now, statics)
        .and_then(|o| o.ipv4)
}

#[test]
fn ranges_are_read_as_the_config_writes_them() {
    // (text, the range shown and its size, or part of the refusal)
    type Case<'a> = (&'a str, Result<(&'a str, u64), &'a str>);
    let cases: [Case<'_>; 7] = [
        ("10.0.0.10-10.0.0.12", Ok(("10.0.0.10-10.0.0.12", 3))),
        ("10.0.0.0/24", Ok(("10.0.0.1-10.0.0.254", 254))),
        ("10.0.0.0/31", Ok(("10.0.0.0-10.0.0.1", 2))),
        ("10.0.0.7/32", Ok(("10.0.0.7-10.0.0.7", 1))),
        ("10.0.0.5/24", Err("host bits set")),
        (
            "10.0.0.9-10.0.0.1",
            Err("the first address is after the last"),
        ),
        ("customers", Err("a range FIRST-LAST or a CIDR block")),
    ];
    for (text, expected) in cases {
        match (text.parse::<Ipv4Range>(), expected) {
            (Ok(range), Ok((shown, len))) => {
                assert_eq!((range.to_string().as_str(), range.len()), (shown, len));
            }
            (Err(e), Err(part)) => assert!(e.contains(part), "{text}: {e}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn overlapping_or_empty_pools_are_refused() {
    let overlap = Pools::new(vec![
        spec("a", &[], &["10.0.0.1-10.0.0.10"]),
        spec("b", &["nas-2"], &["10.0.0.10-10.0.0.20"]),
    ]);
    assert!(
        matches!(overlap, Err(PoolError::Overlap { .. })),
        "{overlap:?}"
    );
    let empty = Pools::new(vec![spec("a", &[], &[])]);
    assert_eq!(empty.unwrap_err(), PoolError::Empty("a".into()));
}

#[test]
fn addresses_are_handed_out_in_turn_skipping_static_ones_and_kept_per_device() {
    let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.3"])]).unwrap();
    let statics = Fixed {
        ipv4: vec![ip("10.0.0.2")],
        ..Fixed::default()
    };
    let mut offer = |who: &Holder, now| offer4(&mut pools, ("c", "nas-1"), who, now, &statics);
    let (alice, alice_tablet) = (holder("alice", "aa"), holder("alice", "bb"));
    let cases = [
        // (holder, at) → address
        (&alice, 0, Some("10.0.0.1")),
        (&alice, 5, Some("10.0.0.1")), // a reconnect gets its address back
        (&alice_tablet, 6, Some("10.0.0.3")), // .2 is a login's static address
        (&holder("bob", "cc"), 7, None), // nothing left
    ];
    for (who, now, expected) in cases {
        assert_eq!(offer(who, at(now)), expected.map(ip), "{who:?} at {now}");
    }
    assert_eq!(
        offer4(&mut pools, ("other", "nas-1"), &alice, at(8), &statics),
        None,
        "a pool ispd does not have is the NAS's"
    );
}

#[test]
fn offers_lapse_sessions_keep_them_and_stops_or_silence_free_them() {
    let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.2"])]).unwrap();
    let (alice, bob, carol) = (
        holder("alice", "a"),
        holder("bob", "b"),
        holder("carol", "c"),
    );
    let stale = Duration::seconds(300);
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &alice, at(0), &NONE),
        Some(ip("10.0.0.1"))
    );
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &bob, at(0), &NONE),
        Some(ip("10.0.0.2"))
    );
    pools.seen(ip("10.0.0.2"), &heard(&bob, at(30)));
    // Alice never started: her offer lapses; Bob's session keeps his.
    assert_eq!(pools.expire(at(61), stale), 1);
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &carol, at(62), &NONE),
        Some(ip("10.0.0.1"))
    );
    // Bob's Stop frees .2; a Stop of somebody else's session frees nothing.
    pools.stopped(ip("10.0.0.1"), &heard(&bob, at(62)));
    pools.stopped(ip("10.0.0.2"), &heard(&bob, at(62)));
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &alice, at(63), &NONE),
        Some(ip("10.0.0.2"))
    );
    // A session not heard of for the stale time goes as the sweep closes it.
    pools.seen(ip("10.0.0.2"), &heard(&alice, at(100)));
    pools.seen(ip("10.0.0.1"), &heard(&carol, at(300)));
    assert_eq!(pools.expire(at(400), stale), 1, "alice's, last seen at 100");
    let usage = pools.usage(&NONE, at(0));
    assert_eq!(
        (usage[0].in_use, usage[0].offered, usage[0].size),
        (1, 0, 2)
    );
}

#[test]
fn an_address_in_use_that_nobody_was_offered_is_never_handed_out() {
    let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.2"])]).unwrap();
    // After a restart, accounting reports .1 in use.
    pools.seen(ip("10.0.0.1"), &heard(&holder("dave", "d"), at(0)));
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &holder("erin", "e"), at(1), &NONE),
        Some(ip("10.0.0.2"))
    );
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &holder("fred", "f"), at(2), &NONE),
        None
    );
}

#[test]
fn a_pool_for_the_asking_nas_goes_before_a_global_one() {
    let mut pools = Pools::new(vec![
        spec("c", &[], &["10.0.0.1-10.0.0.9"]),
        spec("c", &["brno"], &["10.1.0.1-10.1.0.9"]),
    ])
    .unwrap();
    let from = |pools: &mut Pools, nas| offer4(pools, ("c", nas), &holder(nas, ""), at(0), &NONE);
    assert_eq!(from(&mut pools, "brno"), Some(ip("10.1.0.1")));
    assert_eq!(from(&mut pools, "praha"), Some(ip("10.0.0.1")));
}

#[test]
fn a_new_config_keeps_the_leases_that_still_fit() {
    let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.9"])]).unwrap();
    pools.seen(ip("10.0.0.1"), &heard(&holder("a", ""), at(0)));
    pools.seen(ip("10.0.0.9"), &heard(&holder("b", ""), at(0)));
    let next = pools
        .reconfigured(vec![spec("c", &[], &["10.0.0.1-10.0.0.5"])])
        .unwrap();
    let usage = next.usage(&NONE, at(0));
    assert_eq!((usage[0].size, usage[0].in_use), (5, 1));
}

#[test]
fn prefix_blocks_are_cut_into_delegated_prefixes() {
    let block = PrefixBlock::new(prefix("2001:db8:100::/40"), 56).unwrap();
    assert_eq!(block.count(), 65_536);
    assert_eq!(block.nth(0), Some(prefix("2001:db8:100::/56")));
    assert_eq!(block.nth(1), Some(prefix("2001:db8:100:100::/56")));
    assert_eq!(block.nth(65_535), Some(prefix("2001:db8:1ff:ff00::/56")));
    assert_eq!(block.nth(65_536), None);
    assert!(block.holds(prefix("2001:db8:1ab:cd00::/56")));
    assert!(
        !block.holds(prefix("2001:db8:1ab:cd00::/60")),
        "another length"
    );
    assert!(!block.holds(prefix("2001:db8:200::/56")));
    assert_eq!(block.to_string(), "2001:db8:100::/40 in /56s");
    // A static /48 inside blocks 256 of its /56s; one elsewhere none.
    assert_eq!(block.blocked_by(prefix("2001:db8:1ab::/48")), 256);
    assert_eq!(block.blocked_by(prefix("2001:db8:1ab:cd00::/64")), 1);
    assert_eq!(block.blocked_by(prefix("2001:db9::/48")), 0);
    for (len, part) in [(36, "between /40 and /128"), (80, "more than 2^32")] {
        let e = PrefixBlock::new(prefix("2001:db8:100::/40"), len).unwrap_err();
        assert!(e.contains(part), "/{len}: {e}");
    }
}

#[test]
fn prefixes_are_handed_out_beside_addresses_skipping_static_ones() {
    let mut pools = Pools::new(vec![PoolSpec {
        ranges: vec!["10.0.0.1-10.0.0.2".parse().unwrap()],
        ..v6_spec("dual", &["2001:db8:100::/54"], 56)
    }])
    .unwrap();
    let statics = Fixed {
        prefixes: vec![prefix("2001:db8:100:100::/56")],
        ..Fixed::default()
    };
    let (alice, bob, carol) = (
        holder("alice", "a"),
        holder("bob", "b"),
        holder("carol", "c"),
    );
    let offer = |pools: &mut Pools, who: &Holder, wants_prefix: bool, now: i64| {
        pools.offer(("dual", "n"), who, wants_prefix, at(now), &statics)
    };
    let both = |v4: &str, v6: &str| {
        Some(Offer {
            ipv4: Some(ip(v4)),
            prefix: Some(prefix(v6)),
        })
    };
    assert_eq!(
        offer(&mut pools, &alice, true, 0),
        both("10.0.0.1", "2001:db8:100::/56")
    );
    assert_eq!(
        offer(&mut pools, &alice, true, 1),
        both("10.0.0.1", "2001:db8:100::/56")
    );
    // The second /56 is a login's static prefix: Bob gets the third.
    assert_eq!(
        offer(&mut pools, &bob, true, 2),
        both("10.0.0.2", "2001:db8:100:200::/56")
    );
    // Carol has a prefix of her own but the IPv4 addresses are gone: nothing, nothing held.
    assert_eq!(offer(&mut pools, &carol, false, 3), None);
    let usage = pools.usage(&statics, at(0));
    assert_eq!(
        (
            usage[0].prefix_size,
            usage[0].prefixes_offered,
            usage[0].prefixes_reserved
        ),
        (4, 2, 1)
    );
    // Accounting keeps Bob's prefix, his Stop frees it; Alice's offer lapses.
    pools.seen_prefix(prefix("2001:db8:100:200::/56"), &heard(&bob, at(30)));
    pools.stopped_prefix(prefix("2001:db8:100:200::/56"), &heard(&alice, at(31)));
    assert_eq!(
        pools.usage(&statics, at(0))[0].prefixes_in_use,
        1,
        "not alice's to stop"
    );
    pools.stopped_prefix(prefix("2001:db8:100:200::/56"), &heard(&bob, at(31)));
    assert_eq!(
        pools.expire(at(62), Duration::seconds(300)),
        3,
        "alice's two, bob's address"
    );
    let usage = pools.usage(&statics, at(0));
    assert_eq!(
        (
            usage[0].offered,
            usage[0].prefixes_offered,
            usage[0].prefixes_in_use
        ),
        (0, 0, 0)
    );
}

#[test]
fn a_pool_of_prefixes_alone_leaves_ipv4_to_the_nas_and_blocks_may_not_overlap() {
    let mut pools = Pools::new(vec![v6_spec("v6", &["2001:db8::/62"], 64)]).unwrap();
    let got = pools.offer(("v6", "n"), &holder("a", ""), true, at(0), &NONE);
    assert_eq!(
        got,
        Some(Offer {
            ipv4: None,
            prefix: Some(prefix("2001:db8::/64"))
        })
    );
    let overlap = Pools::new(vec![
        v6_spec("a", &["2001:db8::/40"], 56),
        v6_spec("b", &["2001:db8:80::/48"], 56),
    ]);
    assert!(
        matches!(overlap, Err(PoolError::Overlap { .. })),
        "{overlap:?}"
    );
}

#[test]
fn an_offer_kept_across_a_restart_is_held_again_unless_it_lapsed_or_accounting_won() {
    let specs = || vec![spec("c", &[], &["10.0.0.1-10.0.0.4"])];
    let mut before = Pools::new(specs()).unwrap();
    let (alice, bob, carol) = (
        holder("alice", "a"),
        holder("bob", "b"),
        holder("carol", "c"),
    );
    for who in [&alice, &bob, &carol] {
        offer4(&mut before, ("c", "n"), who, at(0), &NONE);
    }
    before.seen(ip("10.0.0.3"), &heard(&carol, at(5)));
    let mut kept = before.offered();
    kept.sort_by_key(|o| o.holder.username.clone());
    assert_eq!(
        kept,
        [
            Offered {
                holder: alice.clone(),
                held: OfferedAddress::Ipv4(ip("10.0.0.1")),
                until: at(60),
            },
            Offered {
                holder: bob.clone(),
                held: OfferedAddress::Ipv4(ip("10.0.0.2")),
                until: at(60),
            },
        ],
        "carol's is in use, not an offer"
    );

    // Started again at 10 s: accounting shows bob's device on .4 already (it reconnected
    // elsewhere) and dave on .2; alice's offer is held again.
    let mut after = Pools::new(specs()).unwrap();
    after.seen(ip("10.0.0.4"), &heard(&bob, at(10)));
    after.seen(ip("10.0.0.2"), &heard(&holder("dave", "d"), at(10)));
    for offer in &kept {
        after.offer_again(offer, at(10));
    }
    assert_eq!(
        offer4(&mut after, ("c", "n"), &holder("erin", "e"), at(11), &NONE),
        Some(ip("10.0.0.3")),
        "not alice's .1, dave's .2 nor bob's .4"
    );
    assert_eq!(
        offer4(&mut after, ("c", "n"), &alice, at(12), &NONE),
        Some(ip("10.0.0.1")),
        "alice gets her offer"
    );
    // An offer past its time is not held again.
    let mut late = Pools::new(specs()).unwrap();
    late.offer_again(&kept[0], at(60));
    assert_eq!(late.offered(), []);
}

/// Accounting arrives out of order: an Interim sent before the session's Stop and delivered
/// after it does not hold the address again (a pool of two ran dry so), while a new session
/// of the same holder later does. An Accounting-On frees what the NAS's sessions from before
/// it held — not what a session after the reboot holds — and their late records stay late.
#[test]
fn a_late_record_of_an_ended_session_holds_nothing_and_a_nas_restart_frees_its_addresses() {
    let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.3"])]).unwrap();
    let (alice, bob, carol) = (
        holder("alice", "a"),
        holder("bob", "b"),
        holder("carol", "c"),
    );
    let in_use = |pools: &Pools| pools.usage(&NONE, at(0))[0].in_use;
    pools.seen(ip("10.0.0.1"), &heard(&alice, at(0)));
    pools.stopped(ip("10.0.0.1"), &heard(&alice, at(20)));
    pools.seen(ip("10.0.0.1"), &heard(&alice, at(10)));
    assert_eq!(in_use(&pools), 0, "the late Interim holds nothing");
    pools.seen(ip("10.0.0.1"), &heard(&alice, at(30)));
    assert_eq!(in_use(&pools), 1, "her next session does");
    pools.stopped(ip("10.0.0.1"), &heard(&alice, at(40)));

    // Bob and Carol on the NAS "n"; it reboots at 100; Carol's session came up after it,
    // and its Start arrived before the (retransmitted) Accounting-On.
    pools.seen(ip("10.0.0.2"), &heard(&bob, at(50)));
    pools.seen(ip("10.0.0.3"), &heard(&carol, at(105)));
    let other_nas = Heard {
        nas: "m",
        ..heard(&alice, at(60))
    };
    pools.seen(ip("10.0.0.1"), &other_nas);
    assert_eq!(pools.nas_restarted("n", at(100), at(110)), 1, "bob's");
    assert_eq!(in_use(&pools), 2, "carol's and alice's on the other NAS");
    pools.seen(ip("10.0.0.2"), &heard(&bob, at(90)));
    assert_eq!(
        in_use(&pools),
        2,
        "bob's Interim from before the reboot is late"
    );
    // Remembered for a stale time, then forgotten.
    assert_eq!(pools.expire(at(500), Duration::seconds(300)), 2);
    pools.seen(ip("10.0.0.2"), &heard(&bob, at(90)));
    assert_eq!(in_use(&pools), 1);
}

/// Found probing from outside: a lapsed offer stayed taken until the sweep let it go (every
/// `stale_after / 4`, up to a minute), so a full pool refused logins for up to two minutes
/// after an Accept whose Start never came, and `pool list` counted it offered.
#[test]
fn a_lapsed_offer_is_free_at_once() {
    let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.1"])]).unwrap();
    let (first, second) = (holder("a", "d1"), holder("b", "d2"));
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &first, at(0), &NONE),
        Some(ip("10.0.0.1"))
    );
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &second, at(59), &NONE),
        None,
        "held for its minute"
    );
    assert_eq!(pools.usage(&NONE, at(59))[0].offered, 1);
    assert_eq!(pools.usage(&NONE, at(60))[0].offered, 0, "lapsed: free");
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &second, at(60), &NONE),
        Some(ip("10.0.0.1")),
        "no sweep needed"
    );
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &first, at(61), &NONE),
        None,
        "the first holder lost it"
    );
}

/// Found probing from outside: a static address inside a pool, online, was counted both in
/// use and reserved, so the pool looked full with an address free.
#[test]
fn a_static_address_online_counts_once() {
    let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.2"])]).unwrap();
    let statics = Fixed {
        ipv4: vec![ip("10.0.0.1")],
        prefixes: vec![],
    };
    let owner = holder("static", "d1");
    pools.seen(ip("10.0.0.1"), &heard(&owner, at(0)));
    let usage = pools.usage(&statics, at(1));
    assert_eq!(
        (usage[0].in_use, usage[0].reserved, usage[0].size),
        (1, 0, 2),
        "one free"
    );
}

/// Found probing from outside: a reconnect after its Stop (PPPoE's usual order) got the
/// next free address, not the one its session ended on, though nobody had taken it.
#[test]
fn a_reconnect_after_its_stop_gets_its_address_back() {
    let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.3"])]).unwrap();
    let (alice, bob) = (holder("a", "d1"), holder("b", "d2"));
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &alice, at(0), &NONE),
        Some(ip("10.0.0.1"))
    );
    pools.seen(ip("10.0.0.1"), &heard(&alice, at(1)));
    pools.stopped(ip("10.0.0.1"), &heard(&alice, at(2)));
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &bob, at(3), &NONE),
        Some(ip("10.0.0.2")),
        "another login gets the next one"
    );
    assert_eq!(
        offer4(&mut pools, ("c", "n"), &alice, at(4), &NONE),
        Some(ip("10.0.0.1")),
        "alice's own, back"
    );
}
