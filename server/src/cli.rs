//! The operations command line: `serve` (the default), `migrate`, `demo`, `user add`.

use std::path::PathBuf;

pub const HELP: &str = "\
prepaid: the prepaid platform for water, electricity and gas

Usage: prepaid [--config FILE] [COMMAND]

Commands:
  serve       Serve the platform (the default when no command is given)
  migrate     Apply the database migrations, then exit
  demo        Seed the demo data (safe to repeat) and print its sign-ins
  user add    Create a person with a one-time initial password, printed once:
                --org NAME --email ADDRESS --name NAME --role ROLE [--site ID] [--unit ID]
              ROLE is admin, manager, operator, cashier (these need --site, but admin)
              or resident (needs --unit). The organisation is created if it is new.
  reconcile   Recompute every balance from the ledger entries; print any difference
                (exits non-zero if there is one)
  trial-balance --site ID
              The site's trial balance by kind of account (it sums to zero)
  journal --site ID [--from DATE] [--to DATE]
              The site's journal as CSV on standard output (dates as 2026-01-31, UTC)
  provider --site ID --provider NAME [--enabled true|false] [--set KEY=VALUE]...
           [--secret KEY=ENV_VAR]...
              Sets a site's payment provider up (sandbox, stripe, mpesa, paystack, bank) and
              prints the addresses to register with it. --set adds or changes a setting
              (base_url, short_code, initiator_name, payout_short_code; KEY= removes one),
              keeping the others; --secret reads a secret from the named environment
              variable (stripe: secret_key, webhook_secret; paystack: secret_key; mpesa:
              consumer_key, consumer_secret, passkey, security_credential), never from the
              command line
  audit verify
              Recompute the audit log's hash chains; print each chain's head and any break
                (exits non-zero if there is one)
  backup --to FILE
              An online, consistent copy of the SQLite database (the server may be running);
              for PostgreSQL use pg_dump (see the README)
  restore --from FILE
              Replace the SQLite database with a backup after checking it; stop the server first
  export --email ADDRESS
              Everything the platform holds about one person, as JSON on standard output
  help        Show this text (also --help, -h)

Options:
  --config FILE   A TOML configuration file (also PREPAID_CONFIG); see the README

Configuration comes from defaults, then the file, then environment variables such as
DATABASE_URL, PREPAID_LISTEN and PREPAID_DEMO (the README lists them all).
";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve,
    Migrate,
    Demo,
    UserAdd(UserAdd),
    Reconcile,
    TrialBalance {
        site: i64,
    },
    Journal {
        site: i64,
        from: Option<String>,
        to: Option<String>,
    },
    Provider(ProviderSetUp),
    AuditVerify,
    Backup {
        to: PathBuf,
    },
    Restore {
        from: PathBuf,
    },
    Export {
        email: String,
    },
    Help,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProviderSetUp {
    pub site: i64,
    pub provider: String,
    pub enabled: bool,
    pub settings: Vec<(String, String)>,
    /// Secret names and the environment variables holding them.
    pub secrets: Vec<(String, String)>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct UserAdd {
    pub org: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub site: Option<i64>,
    pub unit: Option<i64>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Invocation {
    pub config: Option<PathBuf>,
    pub command: Command,
}

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Invocation, String> {
    let mut args = args.into_iter().peekable();
    let mut config = None;
    let mut words = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config = Some(PathBuf::from(args.next().ok_or("--config needs a file")?)),
            "--help" | "-h" => {
                return Ok(Invocation {
                    config,
                    command: Command::Help,
                });
            }
            _ => words.push(arg),
        }
    }
    let mut words = words.into_iter();
    let command = match words.next().as_deref() {
        None | Some("serve") => Command::Serve,
        Some("migrate") => Command::Migrate,
        Some("demo") => Command::Demo,
        Some("help") => Command::Help,
        Some("user") => match words.next().as_deref() {
            Some("add") => Command::UserAdd(parse_user_add(words.by_ref())?),
            _ => return Err("expected `user add`".into()),
        },
        Some("reconcile") => Command::Reconcile,
        Some("trial-balance") => {
            let options = parse_options(words.by_ref(), &["--site"])?;
            Command::TrialBalance {
                site: site_option(&options)?,
            }
        }
        Some("journal") => {
            let options = parse_options(words.by_ref(), &["--site", "--from", "--to"])?;
            Command::Journal {
                site: site_option(&options)?,
                from: options
                    .iter()
                    .find(|(f, _)| f == "--from")
                    .map(|(_, v)| v.clone()),
                to: options
                    .iter()
                    .find(|(f, _)| f == "--to")
                    .map(|(_, v)| v.clone()),
            }
        }
        Some("provider") => {
            let options = parse_options(
                words.by_ref(),
                &["--site", "--provider", "--enabled", "--set", "--secret"],
            )?;
            let pairs = |flag: &str| -> Result<Vec<(String, String)>, String> {
                options
                    .iter()
                    .filter(|(f, _)| f == flag)
                    .map(|(_, v)| {
                        v.split_once('=')
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .ok_or_else(|| format!("{flag} needs KEY=VALUE, got {v:?}"))
                    })
                    .collect()
            };
            Command::Provider(ProviderSetUp {
                site: site_option(&options)?,
                provider: options
                    .iter()
                    .find(|(f, _)| f == "--provider")
                    .map(|(_, v)| v.clone())
                    .ok_or("--provider is needed")?,
                enabled: match options.iter().find(|(f, _)| f == "--enabled") {
                    None => true,
                    Some((_, v)) => v
                        .parse()
                        .map_err(|_| format!("--enabled needs true or false, got {v:?}"))?,
                },
                settings: pairs("--set")?,
                secrets: pairs("--secret")?,
            })
        }
        Some("audit") => match words.next().as_deref() {
            Some("verify") => Command::AuditVerify,
            _ => return Err("expected `audit verify`".into()),
        },
        Some("backup") => Command::Backup {
            to: PathBuf::from(one_option(words.by_ref(), "--to")?),
        },
        Some("restore") => Command::Restore {
            from: PathBuf::from(one_option(words.by_ref(), "--from")?),
        },
        Some("export") => Command::Export {
            email: one_option(words.by_ref(), "--email")?,
        },
        Some(other) => return Err(format!("unknown command {other:?}")),
    };
    if let Command::Serve
    | Command::Migrate
    | Command::Demo
    | Command::Reconcile
    | Command::AuditVerify
    | Command::Help = command
        && let Some(extra) = words.next()
    {
        return Err(format!("unexpected argument {extra:?}"));
    }
    Ok(Invocation { config, command })
}

/// The value of the one option a command takes, which it needs.
fn one_option(words: impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    parse_options(words, &[flag])?
        .pop()
        .map(|(_, value)| value)
        .ok_or_else(|| format!("{flag} is needed"))
}

/// `--flag value` pairs, only the flags allowed.
fn parse_options(
    mut words: impl Iterator<Item = String>,
    allowed: &[&str],
) -> Result<Vec<(String, String)>, String> {
    let mut options = Vec::new();
    while let Some(flag) = words.next() {
        if !allowed.contains(&flag.as_str()) {
            return Err(format!("unknown option {flag:?}"));
        }
        let value = words
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        options.push((flag, value));
    }
    Ok(options)
}

fn site_option(options: &[(String, String)]) -> Result<i64, String> {
    let (_, value) = options
        .iter()
        .find(|(flag, _)| flag == "--site")
        .ok_or("--site is needed")?;
    value
        .parse()
        .map_err(|_| format!("--site needs a number, got {value:?}"))
}

fn parse_user_add(mut words: impl Iterator<Item = String>) -> Result<UserAdd, String> {
    let mut add = UserAdd::default();
    while let Some(flag) = words.next() {
        let value = words
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<i64>()
                .map_err(|_| format!("{flag} needs a number, got {value:?}"))
        };
        match flag.as_str() {
            "--org" => add.org = value.clone(),
            "--email" => add.email = value.clone(),
            "--name" => add.name = value.clone(),
            "--role" => add.role = value.clone(),
            "--site" => add.site = Some(number()?),
            "--unit" => add.unit = Some(number()?),
            other => return Err(format!("unknown option {other:?} for `user add`")),
        }
    }
    for (flag, value) in [
        ("--org", &add.org),
        ("--email", &add.email),
        ("--name", &add.name),
        ("--role", &add.role),
    ] {
        if value.trim().is_empty() {
            return Err(format!("`user add` needs {flag}"));
        }
    }
    Ok(add)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn operations_commands_take_their_one_option() {
        let parsed = |line: &str| parse(args(line)).map(|invocation| invocation.command);
        assert_eq!(parsed("audit verify"), Ok(Command::AuditVerify));
        assert_eq!(
            parsed("backup --to /tmp/b.db"),
            Ok(Command::Backup {
                to: PathBuf::from("/tmp/b.db")
            })
        );
        assert_eq!(
            parsed("export --email a@b.example"),
            Ok(Command::Export {
                email: "a@b.example".into()
            })
        );
        assert!(parsed("restore").is_err(), "restore needs --from");
        assert!(parsed("backup --from x").is_err());
        assert!(parsed("audit verify now").is_err());
    }

    #[test]
    fn provider_set_up_reads_settings_and_secret_variables() {
        let command = parse(args(
            "provider --site 3 --provider stripe --set base_url=http://x --secret secret_key=STRIPE_KEY",
        ))
        .unwrap()
        .command;
        assert_eq!(
            command,
            Command::Provider(ProviderSetUp {
                site: 3,
                provider: "stripe".into(),
                enabled: true,
                settings: vec![("base_url".into(), "http://x".into())],
                secrets: vec![("secret_key".into(), "STRIPE_KEY".into())],
            })
        );
        assert!(parse(args("provider --site 3 --provider stripe --set nonsense")).is_err());
        assert!(parse(args("provider --provider stripe")).is_err());
    }

    #[test]
    fn no_command_serves() {
        assert_eq!(parse(args("")).unwrap().command, Command::Serve);
        assert_eq!(parse(args("serve")).unwrap().command, Command::Serve);
    }

    #[test]
    fn the_config_file_may_come_anywhere() {
        let invocation = parse(args("migrate --config /etc/prepaid.toml")).unwrap();
        assert_eq!(invocation.command, Command::Migrate);
        assert_eq!(invocation.config, Some(PathBuf::from("/etc/prepaid.toml")));
    }

    #[test]
    fn user_add_takes_its_options_and_refuses_missing_ones() {
        let invocation = parse(args(
            "user add --org Acme --email a@b.c --name Ann --role manager --site 3",
        ))
        .unwrap();
        let Command::UserAdd(add) = invocation.command else {
            panic!("not user add")
        };
        assert_eq!((add.role.as_str(), add.site), ("manager", Some(3)));
        assert!(
            parse(args("user add --org Acme --email a@b.c"))
                .unwrap_err()
                .contains("--name")
        );
        assert!(
            parse(args("user add --org Acme --site x"))
                .unwrap_err()
                .contains("number")
        );
    }

    #[test]
    fn ledger_commands_take_a_site() {
        assert_eq!(
            parse(args("reconcile")).unwrap().command,
            Command::Reconcile
        );
        assert_eq!(
            parse(args("trial-balance --site 4")).unwrap().command,
            Command::TrialBalance { site: 4 }
        );
        assert!(parse(args("trial-balance")).is_err());
        assert_eq!(
            parse(args("journal --site 1 --from 2026-01-01"))
                .unwrap()
                .command,
            Command::Journal {
                site: 1,
                from: Some("2026-01-01".into()),
                to: None
            }
        );
        assert!(parse(args("journal --site 1 --at now")).is_err());
    }

    #[test]
    fn unknown_commands_are_refused() {
        assert!(parse(args("frobnicate")).is_err());
        assert!(parse(args("migrate now")).is_err());
    }
}
