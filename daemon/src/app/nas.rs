//! NAS devices: those declared in the config file (read-only here, they own their name and
//! address) and those added through the API. Every change reloads the NAS table.

use ispd_provisioning::nas::Nas;

use super::{App, AppError, AppResult, field};
use crate::changes::Change;
use crate::storage::{Actor, Page, PageRequest};

/// Where a NAS entry comes from; it answers only where it was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Config,
    Api,
}

/// A NAS entry as the operator sees it.
pub type Entry = (Nas, Source);

/// Adds a NAS with its shared secret.
pub async fn create(app: &App<'_>, actor: &Actor, nas: Nas, secret: &str) -> AppResult<Nas> {
    refuse_config_clash(app, &nas, None)?;
    nas.validate()?;
    ispd_provisioning::nas::validate_secret("secret", secret)?;
    let stored = app.store.create_nas(actor, nas, secret).await?;
    app.changes.publish(Change::Nas).await;
    Ok(stored)
}

/// Updates a NAS added through the API, and its secret when one is given.
pub async fn update(
    app: &App<'_>,
    actor: &Actor,
    nas: Nas,
    new_secret: Option<&str>,
) -> AppResult<Nas> {
    if nas.id == 0 {
        refuse_config_clash(app, &nas, Some(&nas.name))?;
        return Err(field("nas.id", "required: it says which NAS to update"));
    }
    refuse_config_clash(app, &nas, None)?;
    nas.validate()?;
    if let Some(secret) = new_secret {
        ispd_provisioning::nas::validate_secret("new_secret", secret)?;
    }
    let stored = app.store.update_nas(actor, nas, new_secret).await?;
    app.changes.publish(Change::Nas).await;
    Ok(stored)
}

pub async fn delete(app: &App<'_>, actor: &Actor, name: &str) -> AppResult<()> {
    if app.config.load().nas.iter().any(|n| n.name == name) {
        return Err(AppError::Precondition(format!(
            "NAS {name:?} is declared in the config file; remove it there"
        )));
    }
    app.store.delete_nas(actor, name).await?;
    app.changes.publish(Change::Nas).await;
    Ok(())
}

/// A NAS by name, the config file's first.
pub async fn get(app: &App<'_>, name: &str) -> AppResult<Entry> {
    if let Some(n) = config_nas(app).into_iter().find(|n| n.name == name) {
        return Ok((n, Source::Config));
    }
    Ok((app.store.get_nas(name).await?, Source::Api))
}

/// One page of NAS entries: the config file's on the first page, then the API's.
pub async fn list(app: &App<'_>, page: PageRequest) -> AppResult<Page<Entry>> {
    let mut items: Vec<Entry> = Vec::new();
    if page.after.is_none() {
        items.extend(config_nas(app).into_iter().map(|n| (n, Source::Config)));
    }
    let stored = app.store.list_nas(page).await?;
    items.extend(stored.items.into_iter().map(|n| (n, Source::Api)));
    Ok(Page {
        items,
        next_page_token: stored.next_page_token,
    })
}

fn config_nas(app: &App<'_>) -> Vec<Nas> {
    let config = app.config.load();
    (0..config.nas.len())
        .map(|i| config.nas_record(i))
        .collect()
}

/// Config entries own their name and address: the API may not shadow or change them.
fn refuse_config_clash(app: &App<'_>, nas: &Nas, changing: Option<&str>) -> AppResult<()> {
    for declared in config_nas(app) {
        if changing == Some(declared.name.as_str()) {
            return Err(AppError::Precondition(format!(
                "NAS {:?} is declared in the config file; change it there",
                declared.name
            )));
        }
        if declared.name == nas.name {
            return Err(AppError::Taken {
                field: "nas.name".into(),
                message: format!("{:?} is declared in the config file", nas.name),
            });
        }
        if declared.address == nas.address {
            return Err(AppError::Taken {
                field: "nas.address".into(),
                message: format!(
                    "{} is declared in the config file as {:?}",
                    nas.address, declared.name
                ),
            });
        }
    }
    Ok(())
}
