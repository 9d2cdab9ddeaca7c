//! `vanban user …` and `vanban unit …`: desk accounts and units from the command line (the
//! first administrator is made here; the rest on /desk/accounts and /desk/units).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Subcommand;

use crate::auth::{Role, normalize_account_name, normalize_label, normalize_unit_code, password};
use crate::config::Settings;
use crate::store::NewAccount;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Creates a desk account; its password is read from standard input (one line).
    Add {
        /// Sign-in name (a–z, 0–9, `.`, `_`, `-`).
        #[arg(long)]
        name: String,
        /// admin (every unit, accounts, units), clerk (its units) or viewer (read only).
        #[arg(long)]
        role: Role,
        /// Organ code of a unit the account belongs to (repeat for several; clerks and
        /// viewers need one).
        #[arg(long = "unit", value_name = "ORGAN_CODE")]
        units: Vec<String>,
        /// The name shown on the desk (default: the sign-in name).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Lists desk accounts.
    List,
}

#[derive(Subcommand, Debug)]
pub enum UnitCommand {
    /// Adds a unit (organ).
    Add {
        /// Organ code, e.g. 000.46.24.H44.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Organ code of the parent unit.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Lists units.
    List,
}

/// One line from standard input, without its line ending. On a terminal the user is told
/// what to type (the line is echoed: pipe it in, e.g. from a password manager, to avoid).
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for the new account (one line): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line)
        .to_string())
}

pub async fn run_user(command: UserCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add {
            name,
            role,
            units,
            display_name,
        } => {
            let name = match normalize_account_name(&name) {
                Ok(n) => n,
                Err(why) => {
                    eprintln!("error: {why}");
                    return Ok(ExitCode::from(2));
                }
            };
            let display_name =
                match normalize_label(display_name.as_deref().unwrap_or(&name), "Họ tên") {
                    Ok(d) => d,
                    Err(why) => {
                        eprintln!("error: {why}");
                        return Ok(ExitCode::from(2));
                    }
                };
            let mut codes = Vec::new();
            for unit in &units {
                match normalize_unit_code(unit) {
                    Ok(c) => codes.push(c),
                    Err(why) => {
                        eprintln!("error: {why}");
                        return Ok(ExitCode::from(2));
                    }
                }
            }
            codes.sort();
            codes.dedup();
            if codes.is_empty() && role != Role::Admin {
                eprintln!("error: a {role} account needs at least one --unit ORGAN_CODE");
                return Ok(ExitCode::from(2));
            }
            let secret = read_password()?;
            if let Err(why) = password::check_strength(&secret, &name) {
                eprintln!("error: password refused: {why}");
                return Ok(ExitCode::from(2));
            }
            let store = super::open_store(settings).await?;
            for code in &codes {
                if store.unit(code).await?.is_none() {
                    eprintln!(
                        "error: no unit {code}: add it first with `vanban unit add --code {code} --name …` \
                         or under [[desk.units]] in the configuration"
                    );
                    return Ok(ExitCode::from(2));
                }
            }
            let password_hash = password::hash(secret).await?;
            let id = store
                .create_account(
                    &NewAccount {
                        name: name.clone(),
                        display_name,
                        role,
                        password_hash,
                        units: codes.clone(),
                    },
                    "cli:user-add",
                )
                .await?;
            println!(
                "account {name} (#{id}) created: {} ({}), units: {}",
                role.as_str(),
                role.label(),
                if codes.is_empty() {
                    "every unit".into()
                } else {
                    codes.join(", ")
                }
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List => {
            let store = super::open_store(settings).await?;
            for a in store.accounts().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.name,
                    a.role.as_str(),
                    if a.disabled { "disabled" } else { "active" },
                    a.units.join(","),
                    a.display_name
                );
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn run_unit(command: UnitCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = super::open_store(settings).await?;
    let code = match command {
        UnitCommand::Add { code, name, parent } => {
            let checked = normalize_unit_code(&code).and_then(|code| {
                let name = normalize_label(&name, "Tên đơn vị")?;
                let parent = parent
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .map(normalize_unit_code)
                    .transpose()?;
                Ok((code, name, parent))
            });
            let (code, name, parent) = match checked {
                Ok(v) => v,
                Err(why) => {
                    eprintln!("error: {why}");
                    return Ok(ExitCode::from(2));
                }
            };
            match store
                .create_unit(&code, &name, parent.as_deref(), "cli:unit-add")
                .await
            {
                Ok(()) => {
                    println!("unit {code} created: {name}");
                    ExitCode::SUCCESS
                }
                Err(crate::store::StoreError::Conflict { message, .. }) => {
                    eprintln!("error: {message}");
                    ExitCode::from(2)
                }
                Err(e) => return Err(e.into()),
            }
        }
        UnitCommand::List => {
            for u in store.units().await? {
                println!(
                    "{}\t{}\t{}",
                    u.code,
                    u.parent_code.as_deref().unwrap_or("-"),
                    u.name
                );
            }
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}
