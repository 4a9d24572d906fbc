//! Logins and NAS entries.

use crate::testkit::fixtures::*;
use ispd_provisioning::enforcement::CoaMode;

pub(super) async fn logins(store: Store) {
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let other_sub = subscribed_client(&store, "1002").await.subscription.id;

    let mut sent = ppp_login("novak", sub);
    sent.ipv4 = Some("10.0.0.5".parse().unwrap());
    sent.ipv6_prefix = Some("2001:db8:100::/56".parse().unwrap());
    sent.nas = vec!["core-2".into(), "core-1".into()];
    sent.attributes = vec![ExtraAttribute {
        name: "Mikrotik-Rate-Limit".into(),
        value: "10M/10M".into(),
    }];
    sent.note = "flat 12".into();
    let created = store
        .create_login(&actor(), sent.clone(), "s3cret-Pass")
        .await
        .unwrap();
    assert_eq!(created.client_number, "1001");
    assert_eq!(created.login.version, 1);
    assert_eq!(
        created.login.nas,
        ["core-1", "core-2"],
        "NAS list is sorted"
    );
    assert_eq!(store.get_login("novak").await.unwrap(), created);
    let mut expected = sent;
    expected.id = created.login.id;
    expected.version = 1;
    expected.nas.sort();
    assert_eq!(created.login, expected);

    assert_eq!(store.login_password("novak").await.unwrap(), "s3cret-Pass");
    let sealed = raw_text(
        &store,
        "SELECT password_sealed FROM login WHERE username = $1",
        "novak",
    )
    .await;
    assert!(
        !sealed.contains("s3cret-Pass"),
        "password stored in clear: {sealed}"
    );
    assert!(!sealed.is_empty());

    expect_conflict(
        store
            .create_login(&actor(), ppp_login("novak", other_sub), "pw")
            .await,
        "login.username",
    );
    let mut same_ip = ppp_login("other", other_sub);
    same_ip.ipv4 = Some("10.0.0.5".parse().unwrap());
    expect_conflict(
        store.create_login(&actor(), same_ip, "pw").await,
        "login.ipv4",
    );
    let mut same_prefix = ppp_login("other", other_sub);
    same_prefix.ipv6_prefix = Some("2001:db8:100::/56".parse().unwrap());
    expect_conflict(
        store.create_login(&actor(), same_prefix, "pw").await,
        "login.ipv6_prefix",
    );
    expect_not_found(
        store
            .create_login(&actor(), ppp_login("orphan", 9999), "pw")
            .await,
    );
    expect_not_found(store.get_login("other").await);
    expect_not_found(store.get_login("dhcp").await);

    let mut dhcp = ppp_login("", sub);
    dhcp.auth_type = AuthType::Mac;
    dhcp.mac = Some("AA-BB-CC-DD-EE-FF".parse().unwrap());
    let dhcp = store.create_login(&actor(), dhcp, "mac-pw").await.unwrap();
    assert_eq!(dhcp.login.username, "aa:bb:cc:dd:ee:ff");
    assert_eq!(
        store
            .get_login("aa:bb:cc:dd:ee:ff")
            .await
            .unwrap()
            .login
            .mac,
        dhcp.login.mac
    );

    // A new password replaces the old one; without one the old one stays.
    let mut edit = created.login.clone();
    edit.note = "moved".into();
    let updated = store
        .update_login(&actor(), edit, Some("n3w-Pass"))
        .await
        .unwrap();
    assert_eq!(updated.login.version, 2);
    assert_eq!(store.login_password("novak").await.unwrap(), "n3w-Pass");
    let mut edit = updated.login.clone();
    edit.disabled = true;
    let updated = store.update_login(&actor(), edit, None).await.unwrap();
    assert!(updated.login.disabled);
    assert_eq!(store.login_password("novak").await.unwrap(), "n3w-Pass");
    expect_stale(
        store
            .update_login(&actor(), created.login.clone(), None)
            .await,
    );

    let usernames = |client: &'static str| {
        let store = store.clone();
        async move {
            store
                .list_logins(client, None, PageRequest::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| r.login.username)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(usernames("1001").await, ["novak", "aa:bb:cc:dd:ee:ff"]);
    assert!(usernames("1002").await.is_empty());

    store.delete_login(&actor(), "novak").await.unwrap();
    expect_not_found(store.get_login("novak").await);
    expect_not_found(store.login_password("novak").await);
}

pub(super) async fn nas_entries(store: Store) {
    let secret = "xyzzy5461-secret";
    let created = store
        .create_nas(&actor(), nas("core-1", "192.0.2.1"), secret)
        .await
        .unwrap();
    assert!(created.id > 0);
    assert_eq!(created.version, 1);
    let mut expected = nas("core-1", "192.0.2.1");
    expected.id = created.id;
    expected.version = 1;
    assert_eq!(created, expected);
    assert_eq!(store.get_nas("core-1").await.unwrap(), created);

    let sealed = raw_text(
        &store,
        "SELECT secret_sealed FROM nas WHERE name = $1",
        "core-1",
    )
    .await;
    assert!(!sealed.contains(secret), "secret stored in clear: {sealed}");
    assert_eq!(
        store.nas_with_secrets().await.unwrap(),
        [(created.clone(), secret.to_owned())]
    );

    expect_conflict(
        store
            .create_nas(&actor(), nas("core-2", "192.0.2.1"), secret)
            .await,
        "nas.address",
    );
    expect_conflict(
        store
            .create_nas(&actor(), nas("core-1", "192.0.2.2"), secret)
            .await,
        "nas.name",
    );
    expect_not_found(store.get_nas("core-2").await);
    let second = store
        .create_nas(&actor(), nas("core-2", "192.0.2.2"), secret)
        .await
        .unwrap();
    let mut onto_first = second.clone();
    onto_first.address = created.address;
    expect_conflict(
        store.update_nas(&actor(), onto_first, None).await,
        "nas.address",
    );
    store.delete_nas(&actor(), "core-2").await.unwrap();

    let mut edit = created.clone();
    edit.note = "rack B".into();
    edit.limit_proxy_state = true;
    edit.coa = Some(CoaMode::Disconnect);
    let updated = store.update_nas(&actor(), edit, None).await.unwrap();
    assert_eq!(updated.version, 2);
    assert!(updated.limit_proxy_state);
    assert_eq!(updated.coa, Some(CoaMode::Disconnect));
    assert_eq!(store.get_nas("core-1").await.unwrap(), updated);
    assert_eq!(store.nas_with_secrets().await.unwrap()[0].1, secret);
    let mut edit = updated.clone();
    edit.address = "2001:db8::1".parse().unwrap();
    let updated = store
        .update_nas(&actor(), edit, Some("another-secret-42"))
        .await
        .unwrap();
    assert_eq!(
        store.nas_with_secrets().await.unwrap(),
        [(updated.clone(), "another-secret-42".to_owned())]
    );
    expect_stale(store.update_nas(&actor(), created, None).await);

    store.delete_nas(&actor(), "core-1").await.unwrap();
    expect_not_found(store.get_nas("core-1").await);
    assert!(store.nas_with_secrets().await.unwrap().is_empty());
}
