//! The `prepaid` binary: serves the platform, or runs an operations command.

use app::{
    domain::{Email, OrgId, Role, SiteId, UnitId, access::NewAccount},
    ports::{DirectoryPort, NewAccountRequest},
};
use server::{
    Platform,
    cli::{self, Command, UserAdd},
    config::Config,
    demo, on_db_write,
};
use std::process::ExitCode;

fn main() -> ExitCode {
    match server::allocator::runtime() {
        Ok(runtime) => runtime.block_on(serve_or_run_command()),
        Err(error) => {
            eprintln!("prepaid: could not start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_or_run_command() -> ExitCode {
    init_tracing();
    let invocation = match cli::parse(std::env::args().skip(1)) {
        Ok(invocation) => invocation,
        Err(message) => {
            eprintln!("prepaid: {message}\n\n{}", cli::HELP);
            return ExitCode::from(2);
        }
    };
    if invocation.command == Command::Help {
        print!("{}", cli::HELP);
        return ExitCode::SUCCESS;
    }
    match run(invocation.config, invocation.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("prepaid: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config_file: Option<std::path::PathBuf>, command: Command) -> Result<(), String> {
    let config = Config::load(config_file).map_err(|error| error.to_string())?;
    if let Command::Restore { from } = &command {
        // Before the platform opens the database it is about to replace.
        return restore(&config, from).await;
    }
    let platform = Platform::open(config)
        .await
        .map_err(|error| error.to_string())?;
    match command {
        Command::Migrate => {
            println!(
                "migrations applied to the {} database",
                platform.db.backend()
            );
            Ok(())
        }
        Command::Demo => {
            seed_demo(&platform).await?;
            Ok(())
        }
        Command::UserAdd(add) => add_user(&platform, add).await,
        Command::Reconcile => reconcile(&platform).await,
        Command::TrialBalance { site } => trial_balance(&platform, site).await,
        Command::Journal { site, from, to } => journal(&platform, site, from, to).await,
        Command::Provider(set_up) => provider(&platform, set_up).await,
        Command::AuditVerify => audit_verify(&platform).await,
        Command::Backup { to } => {
            let size = server::backup::backup(&platform.db, &to)
                .await
                .map_err(|error| error.to_string())?;
            println!("backed up to {} ({size} bytes)", to.display());
            Ok(())
        }
        Command::Restore { .. } => unreachable!("restore is done before the database opens"),
        Command::Export { email } => export(&platform, &email).await,
        Command::Serve => serve(platform).await,
        Command::Help => unreachable!("help is answered before configuration is read"),
    }
}

async fn provider(platform: &Platform, set_up: server::cli::ProviderSetUp) -> Result<(), String> {
    use app::domain::payments::ProviderKind;
    let kind = ProviderKind::parse(&set_up.provider)
        .ok_or_else(|| format!("unknown provider {:?}", set_up.provider))?;
    let settings: serde_json::Map<String, serde_json::Value> = set_up
        .settings
        .into_iter()
        .map(|(key, value)| (key, serde_json::Value::String(value)))
        .collect();
    let mut secrets = serde_json::Map::new();
    for (key, variable) in set_up.secrets {
        let value = std::env::var(&variable)
            .map_err(|_| format!("the environment variable {variable} (for {key}) is not set"))?;
        secrets.insert(key, serde_json::Value::String(value));
    }
    platform
        .payments
        .configure(
            set_up.site,
            kind,
            set_up.enabled,
            settings.into(),
            secrets.into(),
        )
        .await
        .map_err(|error| error.to_string())?;
    let origin = platform
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", platform.config.listen));
    let origin = origin.trim_end_matches('/');
    println!("{} set up for site {}.", kind.label(), set_up.site);
    match kind {
        ProviderKind::Stripe | ProviderKind::Paystack | ProviderKind::Sandbox => {
            println!(
                "Webhook address: {origin}/hooks/{}/{}",
                kind.as_str(),
                set_up.site
            )
        }
        ProviderKind::Mpesa => {
            let token = platform.payments.url_token(&format!("c2b:{}", set_up.site));
            println!(
                "Paybill confirmation URL: {origin}/hooks/mpesa/c2b/{}/{token}",
                set_up.site
            );
            println!(
                "Paybill validation URL:   {origin}/hooks/mpesa/validate/{}/{token}",
                set_up.site
            );
            println!("(STK push results come to a new address for each payment.)");
        }
        ProviderKind::Bank => println!("Transfers are matched from imported statements."),
    }
    Ok(())
}

async fn seed_demo(platform: &Platform) -> Result<(), String> {
    match demo::seed(&platform.db)
        .await
        .map_err(|error| format!("could not seed the demo data: {error}"))?
    {
        demo::Seeded::Created { units, residents } => {
            println!("demo data created: {units} units, {residents} residents")
        }
        demo::Seeded::AlreadyThere => println!("demo data already present"),
    }
    if let Some(accounts) = demo::seed_engine(&platform.engine)
        .await
        .map_err(|error| format!("could not set up the demo's accounts: {error}"))?
    {
        println!("demo tariffs set and {accounts} prepaid accounts opened and topped up");
    }
    demo::seed_fleet(&platform.fleet, platform.config.simulator_speed)
        .await
        .map_err(|error| format!("could not set the demo's fleet rules: {error}"))?;
    demo::seed_payments(&platform.payments)
        .await
        .map_err(|error| format!("could not set the demo's payments up: {error}"))?;
    demo::seed_tokens(&platform.tokens, &platform.db)
        .await
        .map_err(|error| format!("could not set the demo's keypad meter up: {error}"))?;
    println!("{}", demo::sign_ins());
    Ok(())
}

async fn serve(platform: Platform) -> Result<(), String> {
    if platform.config.demo {
        seed_demo(&platform).await?;
    }
    let listen = platform.config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| format!("could not listen on {listen}: {error}"))?;
    tracing::info!(
        backend = platform.db.backend(),
        "serving on http://{listen}"
    );
    platform
        .serve(listener, server::leptos_options(), shutdown_signal())
        .await
        .map_err(|error| format!("the server stopped: {error}"))
}

async fn add_user(platform: &Platform, add: UserAdd) -> Result<(), String> {
    let email = Email::parse(&add.email).map_err(|error| error.to_string())?;
    let org = organisation(platform, add.org.trim()).await?;
    let directory =
        server::directory::Directory::new(platform.db.clone(), platform.callers.clone());
    let (account, site, unit) = match add.role.as_str() {
        "resident" => {
            let unit = UnitId(add.unit.ok_or("a resident needs --unit")?);
            let (site, unit_org) = directory
                .unit_site(unit)
                .await
                .map_err(|error| error.to_string())?
                .ok_or("no such unit")?;
            if unit_org != org {
                return Err("that unit belongs to another organisation".into());
            }
            (NewAccount::Resident, Some(site), Some(unit))
        }
        role => {
            let role: Role = role
                .parse()
                .map_err(|error: app::domain::access::UnknownRole| error.to_string())?;
            let site = match (role.is_per_site(), add.site) {
                (false, None) => None,
                (false, Some(_)) => {
                    return Err("an admin covers the whole organisation: drop --site".into());
                }
                (true, None) => return Err(format!("a {role} needs --site")),
                (true, Some(site)) => {
                    let site = SiteId(site);
                    let site_org = directory
                        .site_org(site)
                        .await
                        .map_err(|error| error.to_string())?
                        .ok_or("no such site")?;
                    if site_org != org {
                        return Err("that site belongs to another organisation".into());
                    }
                    Some(site)
                }
            };
            (NewAccount::Staff(role), site, None)
        }
    };
    let request = NewAccountRequest {
        org,
        email,
        display_name: add.name.trim().to_owned(),
        account,
        site,
        unit,
        phone: None,
        invite_by: None,
    };
    let (_, created) = server::auth::accounts::create(&platform.db, None, request)
        .await
        .map_err(|error| error.to_string())?;
    println!(
        "created {} with the initial password: {}",
        created.email,
        created.initial_password.unwrap_or_default()
    );
    println!("it must be changed at first sign-in");
    if let Some(unit) = unit {
        let opened = platform
            .engine
            .move_in(unit)
            .await
            .map_err(|error| error.to_string())?;
        println!("{opened} prepaid account(s) opened");
    }
    Ok(())
}

async fn reconcile(platform: &Platform) -> Result<(), String> {
    let (accounts, differences) = server::ledger::reconcile(&platform.db)
        .await
        .map_err(|error| error.to_string())?;
    for difference in &differences {
        println!("DIFFERENCE {difference}");
    }
    println!(
        "{accounts} accounts checked, {} difference(s)",
        differences.len()
    );
    if differences.is_empty() {
        Ok(())
    } else {
        Err("the ledger does not reconcile".into())
    }
}

async fn audit_verify(platform: &Platform) -> Result<(), String> {
    let verdict = server::audit::chain::verify(&platform.db)
        .await
        .map_err(|error| error.to_string())?;
    for (chain, seq, head) in &verdict.heads {
        println!("chain {chain}: {seq} entries, head {head}");
    }
    for line in &verdict.breaks {
        println!("BREAK {line}");
    }
    println!(
        "{} entries in {} chain(s) checked, {} from before the chain, {} break(s)",
        verdict.entries,
        verdict.chains,
        verdict.unchained,
        verdict.breaks.len()
    );
    if verdict.breaks.is_empty() {
        Ok(())
    } else {
        Err("the audit log has been tampered with".into())
    }
}

async fn restore(config: &Config, from: &std::path::Path) -> Result<(), String> {
    let url = config.database_url();
    let aside = server::backup::restore(&url, from)
        .await
        .map_err(|error| error.to_string())?;
    println!(
        "restored {}; the database it replaced is kept as {}",
        from.display(),
        aside.display()
    );
    // The restored copy is opened once: migrations newer than the backup are applied, and the
    // ledger and audit chain are checked before anyone relies on it.
    let platform = Platform::open(config.clone())
        .await
        .map_err(|error| error.to_string())?;
    reconcile(&platform).await?;
    audit_verify(&platform).await
}

async fn export(platform: &Platform, email: &str) -> Result<(), String> {
    let email = Email::parse(email).map_err(|error| error.to_string())?;
    let person = server::export::find(&platform.db, &email)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("nobody has the address {email}"))?;
    let export = server::export::person(&platform.db, person)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("nobody has the address {email}"))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&export).map_err(|error| error.to_string())?
    );
    Ok(())
}

async fn trial_balance(platform: &Platform, site: i64) -> Result<(), String> {
    let rules = platform
        .engine
        .rules(SiteId(site))
        .await
        .map_err(|error| error.to_string())?;
    let lines = server::ledger::trial_balance(&platform.db, site)
        .await
        .map_err(|error| error.to_string())?;
    println!(
        "{:<20} {:<12} {:>8} {:>18}",
        "kind",
        "utility",
        "accounts",
        rules.currency.as_str()
    );
    let mut total = 0;
    for line in &lines {
        total += line.balance;
        let amount = app::domain::Minor(line.balance).format(rules.digits);
        println!(
            "{:<20} {:<12} {:>8} {:>18}",
            line.kind, line.utility, line.accounts, amount
        );
    }
    println!(
        "{:<20} {:<12} {:>8} {:>18}",
        "total",
        "",
        "",
        app::domain::Minor(total).format(rules.digits)
    );
    Ok(())
}

async fn journal(
    platform: &Platform,
    site: i64,
    from: Option<String>,
    to: Option<String>,
) -> Result<(), String> {
    let day = |raw: Option<String>, default: chrono::DateTime<chrono::Utc>| match raw {
        None => Ok(default),
        Some(raw) => chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
            .map(|date| date.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
            .map_err(|_| format!("{raw:?} is not a date such as 2026-01-31")),
    };
    let from = day(from.or(Some("1970-01-01".into())), chrono::Utc::now())?;
    let to = day(to.or(Some("9999-12-31".into())), chrono::Utc::now())?;
    let rules = platform
        .engine
        .rules(SiteId(site))
        .await
        .map_err(|error| error.to_string())?;
    let csv = server::ledger::journal_csv(&platform.db, site, from, to, rules.digits)
        .await
        .map_err(|error| error.to_string())?;
    print!("{csv}");
    Ok(())
}

/// The organisation of that name, created if new (how the first admin of a fresh install is made).
async fn organisation(platform: &Platform, name: &str) -> Result<OrgId, String> {
    let now = chrono::Utc::now();
    let id: i64 = on_db_write!(&platform.db, pool => {
        sqlx::query("INSERT INTO organisations (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(now)
            .execute(pool)
            .await
            .map_err(|error| error.to_string())?;
        sqlx::query_scalar("SELECT id FROM organisations WHERE name = $1")
            .bind(name)
            .fetch_one(pool)
            .await
            .map_err(|error| error.to_string())
    })?;
    Ok(OrgId(id))
}

fn init_tracing() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let filter = std::env::var("PREPAID_LOG")
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer())
        .with(filter)
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
