//! Logins: the credentials RADIUS checks. Every change is answered by RADIUS before the use
//! case returns. Passwords go in, never out: only a password generated here is returned, once.

use ispd_provisioning::login::{AuthType, Generation, Login, validate_password};
use ispd_provisioning::speed::TemporarySpeed;

use super::{App, AppError, AppResult, field};
use ispd_provisioning::policy::{AccessState, InForce};

use crate::radius::RadiusService;
use crate::storage::{
    AccessScope, Actor, AuthLogEntry, AuthLogFilter, LoginRecord, Page, PageRequest, SessionFilter,
    SessionRow, StoreError,
};

/// A created login, and the password generated for it when the request gave none.
#[derive(Debug)]
pub struct Created {
    pub login: LoginRecord,
    pub generated_password: Option<String>,
}

/// Creates a login with `password`, or a generated one when it is empty.
pub async fn create(
    app: &App<'_>,
    actor: &Actor,
    mut login: Login,
    password: String,
) -> AppResult<Created> {
    check_nas_names(app, &login).await?;
    let generation = app.config.load().logins.generation();
    if login.username.trim().is_empty() && login.auth_type != AuthType::Mac {
        login.username = free_username(app, &generation, login.subscription_id).await?;
    }
    login.apply_defaults();
    login.validate()?;
    check_attributes(&login)?;
    let (password, generated) = if password.is_empty() {
        (generate_password(&generation)?, true)
    } else {
        (password, false)
    };
    validate_password(&password)?;
    let stored = app.store.create_login(actor, login, &password).await?;
    app.publish(AccessScope::Login(stored.login.id)).await;
    Ok(Created {
        login: stored,
        generated_password: generated.then_some(password),
    })
}

/// Updates a login, and its password when one is given.
pub async fn update(
    app: &App<'_>,
    actor: &Actor,
    mut login: Login,
    new_password: Option<&str>,
) -> AppResult<LoginRecord> {
    check_nas_names(app, &login).await?;
    login.apply_defaults();
    login.validate()?;
    check_attributes(&login)?;
    if let Some(password) = new_password {
        validate_password(password)?;
    }
    let stored = app.store.update_login(actor, login, new_password).await?;
    app.publish(AccessScope::Login(stored.login.id)).await;
    Ok(stored)
}

pub async fn delete(app: &App<'_>, actor: &Actor, username: &str) -> AppResult<()> {
    let id = app.store.get_login(username).await?.login.id;
    app.store.delete_login(actor, username).await?;
    app.publish(AccessScope::Login(id)).await;
    Ok(())
}

/// Gives the login a generated password and returns it.
pub async fn reset_password(app: &App<'_>, actor: &Actor, username: &str) -> AppResult<String> {
    let password = generate_password(&app.config.load().logins.generation())?;
    validate_password(&password)?;
    app.store
        .set_login_password(actor, username, &password)
        .await?;
    let id = app.store.get_login(username).await?.login.id;
    app.publish(AccessScope::Login(id)).await;
    Ok(password)
}

/// Gives a login a temporary speed, or takes it away (`None`); its sessions follow at once.
pub async fn set_temporary_speed(
    app: &App<'_>,
    actor: &Actor,
    username: &str,
    speed: Option<TemporarySpeed>,
) -> AppResult<LoginRecord> {
    if let Some(speed) = &speed {
        speed.validate(app.clock.now())?;
    }
    let id = app
        .store
        .set_temporary_speed(actor, username, speed)
        .await?;
    app.publish(AccessScope::Login(id)).await;
    Ok(app.store.get_login(username).await?)
}

pub async fn get(app: &App<'_>, username: &str) -> AppResult<LoginRecord> {
    Ok(app.store.get_login(username).await?)
}

/// One login as the support desk sees it.
pub struct LoginView {
    pub record: LoginRecord,
    /// The tariff of its subscription.
    pub tariff: String,
    /// Its access state and what an Access-Request of it gets now; `None` while the access
    /// cache does not hold it (a login just deleted).
    pub now: Option<(AccessState, InForce)>,
    /// Its sessions without a Stop (at most a page).
    pub sessions: Vec<SessionRow>,
    /// Its newest authentication attempt.
    pub last_auth: Option<AuthLogEntry>,
}

/// The record, what RADIUS gives the login now, its online sessions and its last
/// authentication.
pub async fn view(app: &App<'_>, radius: &RadiusService, username: &str) -> AppResult<LoginView> {
    let record = app.store.get_login(username).await?;
    let tariff = app
        .store
        .get_subscription(record.login.subscription_id)
        .await?
        .tariff_name;
    let username = record.login.username.as_str();
    let filter = SessionFilter {
        username: username.to_owned(),
        ..SessionFilter::default()
    };
    let sessions = app
        .store
        .open_sessions(&filter, PageRequest::default())
        .await?
        .items;
    let newest = AuthLogFilter {
        login: username.to_owned(),
        ..AuthLogFilter::default()
    };
    let last_auth = radius
        .auth_log
        .list(
            &newest,
            PageRequest {
                size: 1,
                after: None,
            },
        )
        .await?
        .page
        .items
        .into_iter()
        .next();
    Ok(LoginView {
        now: radius.in_force(username),
        record,
        tariff,
        sessions,
        last_auth,
    })
}

/// One page of a client's logins, or a subscription's.
pub async fn list(
    app: &App<'_>,
    client_number: &str,
    subscription_id: Option<i64>,
    page: PageRequest,
) -> AppResult<Page<LoginRecord>> {
    // A client that is not there is said so, as `invoice list` says it, not an empty list.
    if !client_number.is_empty() {
        app.store.get_client(client_number).await?;
    }
    Ok(app
        .store
        .list_logins(client_number, subscription_id, page)
        .await?)
}

/// A login may only name NAS devices ispd knows, from the config file or the API.
async fn check_nas_names(app: &App<'_>, login: &Login) -> AppResult<()> {
    for (i, name) in login.nas.iter().enumerate() {
        if app.config.load().nas.iter().any(|n| &n.name == name) {
            continue;
        }
        match app.store.get_nas(name).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => {
                return Err(field(
                    &format!("login.nas[{i}]"),
                    format!("unknown NAS {name:?}"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A fresh password of the configured shape from the operating system's random source.
fn generate_password(generation: &Generation) -> AppResult<String> {
    loop {
        let mut random = vec![0u8; generation.password_length * 2 + 32];
        getrandom::fill(&mut random).map_err(|e| AppError::Random(e.to_string()))?;
        if let Some(password) = generation.password_from_random(&random) {
            return Ok(password);
        }
    }
}

/// Candidates of the pattern tried at most for one login.
const USERNAME_TRIES: u32 = 10_000;

/// The first username the `[logins] username_pattern` gives for a login of the subscription
/// that no login has yet.
async fn free_username(
    app: &App<'_>,
    generation: &Generation,
    subscription_id: i64,
) -> AppResult<String> {
    let client = app
        .store
        .get_subscription(subscription_id)
        .await?
        .client_number;
    let tries = if generation.numbered() {
        USERNAME_TRIES
    } else {
        1
    };
    for n in 1..=tries {
        let candidate = generation.username(&client, subscription_id, n);
        match app.store.get_login(&candidate).await {
            Err(StoreError::NotFound { .. }) => return Ok(candidate),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(field(
        "login.username",
        format!(
            "[logins] username_pattern {:?} gives no free name for subscription {subscription_id}; give one",
            generation.username_pattern
        ),
    ))
}

/// Every extra attribute of the login can be sent: a name the dictionaries know, a value of
/// its dictionary type (a number for an integer, an address for an ipaddr, `0x…` for octets).
/// Refused naming the attribute and why, instead of being left out of every answer with a
/// warning in the log, or sent as text the NAS misreads.
fn check_attributes(login: &Login) -> AppResult<()> {
    ispd_provisioning::login::check_extras(&login.attributes)?;
    for (i, attr) in login.attributes.iter().enumerate() {
        if let Err(e) = crate::radius::reply::extra(&attr.name, &attr.value) {
            return Err(field(&format!("login.attributes[{i}]"), e.to_string()));
        }
    }
    Ok(())
}
