//! The closing of the books (`ispctl books close --until DATE`) and the check every use case
//! that writes something dated makes against it (`ispd_billing::books` holds both rules).

use chrono::NaiveDate;
use ispd_billing::books::{self, ClosedPeriod};

use super::{App, AppError, AppResult, field};
use crate::storage::{Actor, Store, Tx};

/// Closes the books through `until` (a past day, never before an earlier closing); returns
/// the closing in force. It holds the money (`begin_money_write`), as every use case that
/// writes something dated does: one being written waits, or is waited for, so nothing lands
/// in a period closed before it committed, and two closings read each other.
pub async fn close(app: &App<'_>, actor: &Actor, until: NaiveDate) -> AppResult<NaiveDate> {
    let mut tx = app.store.begin_money_write().await?;
    let closed = app.store.books_closed_until_in(&mut tx).await?;
    let until = books::close(closed, until, app.clock.today())
        .map_err(|e| field("until", e.to_string()))?;
    if closed != Some(until) {
        app.store.close_books_in(&mut tx, actor, until).await?;
    }
    tx.commit().await?;
    Ok(until)
}

/// The last day of the closed period, if the books were ever closed.
pub async fn closed_until(app: &App<'_>) -> AppResult<Option<NaiveDate>> {
    Ok(app.store.books_closed_until().await?)
}

/// Refuses `what`, dated `date`, when it lies in the closed period.
pub(super) async fn check_open(store: &Store, what: &str, date: NaiveDate) -> AppResult<()> {
    let closed = store.books_closed_until().await?;
    books::check_open(closed, what, date).map_err(refused)
}

/// [`check_open`] inside the use case's transaction, for each of `dated`.
pub(super) async fn check_open_in<'a>(
    store: &Store,
    tx: &mut impl Tx,
    dated: impl IntoIterator<Item = (&'a str, NaiveDate)>,
) -> AppResult<()> {
    let closed = store.books_closed_until_in(tx).await?;
    for (what, date) in dated {
        books::check_open(closed, what, date).map_err(refused)?;
    }
    Ok(())
}

fn refused(e: ClosedPeriod) -> AppError {
    AppError::Precondition(e.to_string())
}
