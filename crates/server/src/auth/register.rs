//! Creating an account: validation, the per-network registration limits, hashing, and one
//! answer for a taken username or address (registering is no way to learn whether an address
//! has an account; usernames are public anyway).

use crate::error::{Error, Result};
use crate::state::App;
use justus_core::user::{DisplayName, Email, NewUser, Password, User, Username};
use justus_core::{StoreError, UserId};
use std::net::IpAddr;

/// What a person typed to sign up.
pub struct Registration<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password: &'a str,
}

pub async fn register(app: &App, r: Registration<'_>, ip: IpAddr) -> Result<User> {
    let username = Username::parse(r.username)?;
    let display_name = DisplayName::parse(r.display_name.unwrap_or(r.username))?;
    let email = r
        .email
        .filter(|e| !e.trim().is_empty())
        .map(Email::parse)
        .transpose()?;
    let email_local = email
        .as_ref()
        .and_then(|e| e.as_str().split('@').next())
        .unwrap_or_default();
    let password = Password::parse_new(
        r.password,
        &[username.as_str(), display_name.as_str(), email_local],
    )?;
    crate::auth::instance_bans::check_signup(app, ip).await?;
    if let Err(wait) = app.limits.register(ip).await {
        metrics::counter!("auth_registrations_total", "outcome" => "rate_limited").increment(1);
        return Err(Error::rate_limited(
            "too many accounts created from this address; try later",
            wait,
        ));
    }
    let hash = app.passwords.hash(password.expose()).await?;
    let created = app
        .store
        .create_user(&NewUser {
            id: UserId::new(),
            username,
            display_name,
            email,
            password_hash: hash,
            now: app.now(),
        })
        .await;
    let user = match created {
        Ok(user) => user,
        Err(StoreError::Conflict("username" | "email")) => {
            metrics::counter!("auth_registrations_total", "outcome" => "conflict").increment(1);
            // Refused attempts are limited too, or the one answer could be probed at speed.
            if let Err(wait) = app.limits.register_conflict(ip).await {
                return Err(Error::rate_limited(
                    "too many refused registrations from this address; try later",
                    wait,
                ));
            }
            return Err(Error::conflict(
                "registration_conflict",
                "this username or e-mail address cannot be used; choose another",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    metrics::counter!("auth_registrations_total", "outcome" => "created").increment(1);
    tracing::info!(user_id = %user.id, "account created");
    Ok(user)
}
