//! The client card: created, changed (its logins answered anew: a client's suspension and
//! data shape what RADIUS says), deleted, found.

use ispd_billing::client::{Client, Duplicate};
use ispd_billing::erasure::{self, Category};
use ispd_billing::field::{Text, text};

use rust_decimal::Decimal;

use super::{App, AppError, AppResult, field, settlement};
use crate::storage::{
    AccessScope, Actor, ClientFilter, Page, PageRequest, SearchHit, Store, StoreError, WriteTx,
};

/// A client as stored, with the records that look like duplicates of it (a warning, not a
/// refusal).
pub type Saved = (Client, Vec<Duplicate>);

/// Creates a client: an empty number gets the next free one, held in the same transaction;
/// the card's defaults are filled in and its rules checked before anything is written. `today`
/// decides the opening balance's date.
pub async fn create(app: &App<'_>, actor: &Actor, mut client: Client) -> AppResult<Saved> {
    let (store, today) = (app.store, app.clock.today());
    let mut tx = store.begin_money_write().await?;
    if client.number.is_empty() {
        client.number = store.claim_client_number_in(&mut tx).await?;
    }
    client.apply_defaults();
    client.validate_on(today)?;
    check_referrer(store, &mut tx, &client).await?;
    let (client, warnings) = store.insert_client_in(&mut tx, client).await?;
    let opening = (&client, Decimal::ZERO);
    settlement::opening_balance(store, &mut tx, actor, opening, today, &app.currency()).await?;
    store
        .record_client_created_in(&mut tx, actor, &client)
        .await?;
    tx.commit().await?;
    Ok((client, warnings))
}

/// Updates a client (a changed opening balance put on the account in the same transaction);
/// its logins get the new answer before this returns.
pub async fn update(app: &App<'_>, actor: &Actor, mut client: Client) -> AppResult<Saved> {
    let (store, today) = (app.store, app.clock.today());
    client.apply_defaults();
    client.validate_on(today)?;
    let mut tx = store.begin_money_write().await?;
    client.keep_read_only(&store.client_in(&mut tx, &client.number).await?);
    check_referrer(store, &mut tx, &client).await?;
    let (before, client, warnings) = store.update_client_in(&mut tx, actor, client).await?;
    let opening = (&client, before.invoicing.opening_balance);
    settlement::opening_balance(store, &mut tx, actor, opening, today, &app.currency()).await?;
    tx.commit().await?;
    app.publish(AccessScope::Client(client.number.clone()))
        .await;
    Ok((client, warnings))
}

/// The client named as the referrer exists.
async fn check_referrer(store: &Store, tx: &mut WriteTx, client: &Client) -> AppResult<()> {
    let referrer = &client.relationship.referrer;
    if referrer.is_empty() {
        return Ok(());
    }
    match store.client_in(tx, referrer).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound { .. }) => Err(field(
            "client.relationship.referrer",
            format!("no client numbered {referrer:?}"),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(app: &App<'_>, number: &str) -> AppResult<Client> {
    Ok(app.store.get_client(number).await?)
}

/// One page of the clients the filter selects; each filter text is a search text.
/// The clients `filter` selects, registered from and until the days `registered` names (in
/// `[billing] timezone`: found probing from outside, the UTC day was taken, so far from UTC
/// a client registered "today" was listed under yesterday or tomorrow).
pub async fn list(
    app: &App<'_>,
    mut filter: ClientFilter,
    (from, until): (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
    page: PageRequest,
) -> AppResult<Page<Client>> {
    let zone = app.clock.zone();
    filter.registered_since = from.map(|day| zone.midnight(day));
    filter.registered_before = until
        .and_then(|day| day.succ_opt())
        .map(|day| zone.midnight(day));
    for (name, value) in [
        ("name_contains", &filter.name_contains),
        ("group", &filter.group),
        ("status", &filter.status),
        ("city", &filter.city),
        ("language", &filter.language),
    ] {
        text(name, value, Text::Search)?;
    }
    Ok(app.store.list_clients(&filter, page).await?)
}

/// Deletes a client that never had books or services, once the caller `confirmed` it: a
/// deletion cannot be undone (Mango asks before "delete completely").
pub async fn delete(app: &App<'_>, actor: &Actor, number: &str, confirmed: bool) -> AppResult<()> {
    if !confirmed {
        return Err(unconfirmed(&format!("deleting client {number}")));
    }
    Ok(app.store.delete_client(actor, number).await?)
}

/// Erases the client's personal data of `categories` on request (GDPR), once the caller
/// `confirmed` it: the card's fields blanked (`ispd_billing::erasure`), the same fields in
/// the client's audit history, and the erasure audited naming only the categories — one
/// transaction. The books keep what the law requires. Returns the card as it is now.
pub async fn erase(
    app: &App<'_>,
    actor: &Actor,
    number: &str,
    categories: &[Category],
    confirmed: bool,
) -> AppResult<Client> {
    if categories.is_empty() {
        return Err(field(
            "categories",
            "name at least one: contact, identity, address, bank, notes",
        ));
    }
    if !confirmed {
        return Err(unconfirmed(&format!(
            "erasing the personal data of client {number}"
        )));
    }
    let mut client = app.store.get_client(number).await?;
    for category in categories {
        erasure::erase(&mut client, *category);
    }
    let names: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
    let scrub = |record: &mut serde_json::Value| {
        for category in categories {
            erasure::scrub(record, *category);
        }
    };
    let mut tx = app.store.begin_write().await?;
    let erased = app
        .store
        .erase_client_in(&mut tx, actor, client, &names, &scrub)
        .await?;
    tx.commit().await?;
    Ok(erased)
}

/// The refusal of an irreversible change (`what`, e.g. "deleting client 7") the caller did
/// not confirm.
pub(super) fn unconfirmed(what: &str) -> AppError {
    field(
        "confirm",
        format!("{what} cannot be undone: confirm it (ispctl: --yes)"),
    )
}

/// Clients matching `query` anywhere (number, name, address, contacts, MAC...).
pub async fn search(app: &App<'_>, query: &str, limit: u32) -> AppResult<Vec<SearchHit>> {
    // Before any SQL: SQLite refuses a LIKE pattern of 50 kB as a database error.
    text("query", query, Text::Search)?;
    Ok(app.store.search_clients(query, limit).await?)
}

/// The number the next client would get.
pub async fn next_number(app: &App<'_>) -> AppResult<String> {
    Ok(app.store.next_client_number().await?)
}
