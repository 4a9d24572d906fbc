//! Persistence: what a reopened store still holds.

use crate::testkit::fixtures::*;

/// Closing and reopening the database keeps everything; migrations re-run harmlessly.
pub(super) async fn reopened_store_keeps_data(store: Store, url: String) {
    create_full_client_codes(&store).await;
    let (client, _) = store.create_client(&actor(), full_client()).await.unwrap();
    let nas = store
        .create_nas(&actor(), nas("core-1", "192.0.2.1"), "xyzzy5461-secret")
        .await
        .unwrap();
    let statuses = store.list_codes(CodeList::ClientStatus).await.unwrap();
    store.close().await;

    let reopened = Store::open(&url, 4, sealer()).await.expect("reopen");
    assert_eq!(reopened.get_client("1001").await.unwrap(), client);
    assert_eq!(
        reopened.nas_with_secrets().await.unwrap(),
        [(nas, "xyzzy5461-secret".to_owned())]
    );
    assert_eq!(
        reopened.list_codes(CodeList::ClientStatus).await.unwrap(),
        statuses
    );
    assert_eq!(reopened.next_client_number().await.unwrap(), "1002");
    reopened.close().await;
}

/// A variable symbol must lead a payment to one client: a client number, assigned symbols
/// and service symbols may not collide across clients.
pub(super) async fn variable_symbols_name_one_client(store: Store) {
    let first = subscribed_client(&store, "1001").await;
    let mut second = minimal_client("1002", "Druhý");
    second.invoicing.variable_symbols = vec!["1001".into()];
    expect_conflict(
        store.create_client(&actor(), second.clone()).await,
        "client.invoicing.variable_symbols[0]",
    );
    second.invoicing.variable_symbols = vec!["5555".into()];
    store.create_client(&actor(), second).await.unwrap();
    // A service symbol equal to another client's assigned symbol is refused...
    let mut sub = first.subscription.clone();
    sub.variable_symbol = "5555".into();
    expect_conflict(
        store
            .update_subscription(&actor(), &first.tariff_name, sub.clone())
            .await,
        "subscription.variable_symbol",
    );
    // ...and a client number equal to another client's service symbol too.
    sub.variable_symbol = "7777".into();
    store
        .update_subscription(&actor(), &first.tariff_name, sub)
        .await
        .unwrap();
    expect_conflict(
        store
            .create_client(&actor(), minimal_client("7777", "Třetí"))
            .await,
        "client.number",
    );
}

/// A large read (on SQLite a connection of the store's own) binds `$n` by its number, in
/// whatever order the statement names them, and sees what is committed.
pub(super) async fn large_reads_bind_numbered_parameters(store: Store) {
    use crate::Arg;
    use crate::own_read::own_row;
    own_row! {
        struct Named {
            name: String,
            number: String,
        }
    }
    own_row! {
        struct Misnamed {
            number: String,
            name: String,
        }
    }
    create_full_client_codes(&store).await;
    store.create_client(&actor(), full_client()).await.unwrap();
    let sql = "SELECT name, number FROM client WHERE number = $2 AND id > $1";
    let args = vec![Arg::Int(0), Arg::Text("1001".to_owned())];
    let rows: Vec<Named> = store.read_rows(sql.to_owned(), args.clone()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].name.as_str(), rows[0].number.as_str()),
        (full_client().name.as_str(), "1001")
    );
    // Read by position, a row whose fields are not the statement's columns in order is
    // refused rather than read into the wrong fields (sqlx reads by name).
    let misread = store.read_rows::<Misnamed>(sql.to_owned(), args).await;
    match store.backend() {
        crate::Backend::Sqlite => assert!(misread.is_err(), "columns out of order were read"),
        crate::Backend::Postgres => {
            let row = &misread.unwrap()[0];
            assert_eq!(
                (row.name.as_str(), row.number.as_str()),
                (rows[0].name.as_str(), "1001")
            );
        }
    }
}
