//! The meter fleet: a meter's page and remote operations, installing, replacing and
//! decommissioning meters, alarms and their steps, held cut-offs and the site's fleet rules.
//! Residents see their own meters and the alarms on their units; operators (technicians)
//! and managers operate meters; managers change the fleet.

// A server function's arguments are its form's fields, one each.
#![allow(clippy::too_many_arguments)]

use crate::{
    domain::{
        faults::FaultView,
        fleet::{AlarmView, InstalledMeter, MeterPageData, SiteFleet},
    },
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{answer, caller, ports};

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use crate::{
        domain::{Caller, MeterAction, MeterId, OrgId, SiteId, UnitId},
        error::AppError,
        ports::{AccountPlace, MeterPlace, MeterViewer, Ports},
    };

    /// Checks the caller may act on the meter. Unknown and foreign meters answer alike.
    pub async fn meter(
        ports: &Ports,
        caller: &Caller,
        meter: &str,
        action: MeterAction,
    ) -> Result<(MeterId, AccountPlace), AppError> {
        let (meter, place, _) = viewed_meter(ports, caller, meter, action).await?;
        Ok((meter, place))
    }

    /// As `meter`, with how the caller sees it: as the resident of its unit, what concerns
    /// their home (not the command log, staff's notes, nor readings from before they moved
    /// in); else as its staff.
    pub async fn viewed_meter(
        ports: &Ports,
        caller: &Caller,
        meter: &str,
        action: MeterAction,
    ) -> Result<(MeterId, AccountPlace, MeterViewer), AppError> {
        let meter: MeterId = meter.parse().map_err(|_| AppError::Forbidden)?;
        let MeterPlace { place, stay_began } = ports
            .fleet
            .meter_place(meter, caller.user_id)
            .await?
            .ok_or(AppError::Forbidden)?;
        let may = |action| caller.may_on_meter(action, place.site, place.org, place.occupant);
        if !may(action) {
            return Err(AppError::Forbidden);
        }
        let viewer = match stay_began {
            Some(since) if !may(MeterAction::Operate) => MeterViewer::Resident { since },
            _ => MeterViewer::Staff,
        };
        Ok((meter, place, viewer))
    }

    pub async fn site(
        ports: &Ports,
        caller: &Caller,
        site: &str,
        action: MeterAction,
    ) -> Result<(SiteId, OrgId), AppError> {
        crate::api::ssr::site_where(ports, site, |site, org| {
            allowed(caller, action, site, org).is_ok()
        })
        .await
    }

    /// Checks the caller's staff rights on the site of a fault report.
    pub async fn fault(
        ports: &Ports,
        caller: &Caller,
        fault: &str,
        action: MeterAction,
    ) -> Result<i64, AppError> {
        let fault: i64 = fault.trim().parse().map_err(|_| AppError::Forbidden)?;
        let (site, org) = ports
            .fleet
            .fault_place(fault)
            .await?
            .ok_or(AppError::Forbidden)?;
        allowed(caller, action, site, org).map(|()| fault)
    }

    /// Staff rights on a site (nobody is a site's or unit's occupant as such).
    fn allowed(
        caller: &Caller,
        action: MeterAction,
        site: SiteId,
        org: OrgId,
    ) -> Result<(), AppError> {
        if caller.may_on_meter(action, site, org, None) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub async fn unit(
        ports: &Ports,
        caller: &Caller,
        unit: &str,
        action: MeterAction,
    ) -> Result<UnitId, AppError> {
        let unit: UnitId = unit.parse().map_err(|_| AppError::Forbidden)?;
        let (site, org) = ports
            .directory
            .unit_site(unit)
            .await?
            .ok_or(AppError::Forbidden)?;
        allowed(caller, action, site, org).map(|()| unit)
    }

    pub async fn alarm(
        ports: &Ports,
        caller: &Caller,
        alarm: &str,
        action: MeterAction,
    ) -> Result<i64, AppError> {
        let alarm: i64 = alarm.trim().parse().map_err(|_| AppError::Forbidden)?;
        let place = ports
            .fleet
            .alarm_place(alarm)
            .await?
            .ok_or(AppError::Forbidden)?;
        allowed(caller, action, place.site, place.org).map(|()| alarm)
    }
}

/// What the console's downloads ask of the fleet, checked as its pages are.
#[cfg(feature = "ssr")]
pub mod access {
    use super::guard;
    use crate::{
        domain::{Caller, MeterAction, meter_readings::MeterReadings, reports::DaysAsked},
        error::AppError,
        ports::Ports,
    };

    /// The meter's readings over the site's days asked, as its page shows them: to its
    /// resident only those taken since they moved in.
    pub async fn meter_readings(
        ports: &Ports,
        caller: &Caller,
        meter: &str,
        from: &str,
        to: &str,
    ) -> Result<MeterReadings, AppError> {
        let (id, place, viewer) =
            guard::viewed_meter(ports, caller, meter, MeterAction::View).await?;
        let days = DaysAsked::parse(from, to).map_err(AppError::Invalid)?;
        ports
            .fleet
            .meter_readings(id, place.site, days, viewer)
            .await
    }
}

/// One meter: status, relay, commands with their delivery status, alarms.
#[server(prefix = "/api", endpoint = "meter")]
pub async fn load_meter(meter: String) -> Result<MeterPageData, AppError> {
    use crate::{domain::MeterAction, ports::MeterViewer};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, place, viewer) =
                guard::viewed_meter(&ports, &caller, &meter, MeterAction::View).await?;
            let may = |action| caller.may_on_meter(action, place.site, place.org, place.occupant);
            let mut detail = ports.fleet.meter(id, viewer).await?;
            if viewer != MeterViewer::Staff {
                // Residents see what concerns them, not the command log's reasons nor what
                // staff wrote about its alarms.
                detail.commands.clear();
                // Nor the site's bulk meters, whose pages are for staff.
                detail.master = None;
                detail.sub_meters = 0;
                detail
                    .alarms
                    .iter_mut()
                    .for_each(|alarm| alarm.notes.clear());
            }
            let may_operate = may(MeterAction::Operate);
            Ok(MeterPageData {
                meter: detail,
                may_operate,
                form_nonce: if may_operate {
                    ports.accounts.form_nonce()
                } else {
                    String::new()
                },
                may_manage: may(MeterAction::Manage),
            })
        }
        .await,
    )
}

/// One meter's page without forms, drawn as HTML (a resident's meter page redraws from it).
#[server(prefix = "/api", endpoint = "meter_html")]
pub async fn meter_html(meter: String) -> Result<String, AppError> {
    let data = load_meter(meter).await?;
    Ok(crate::pages::fleet::meter_drawing(data))
}

/// A remote operation: `read`, `open`, `close`, `load_limit` (with `kw`), `sync_clock`,
/// `tou_schedule`. Opening and closing need a reason.
#[server(prefix = "/api", endpoint = "operate_meter")]
pub async fn operate_meter(
    meter: String,
    op: String,
    #[server(default)] kw: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    use crate::domain::{MeterAction, fleet::Operation};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, place) = guard::meter(&ports, &caller, &meter, MeterAction::Operate).await?;
            let operation = Operation::parse(&op, &kw).map_err(AppError::Invalid)?;
            ports
                .fleet
                .operate(&caller, place.site, id, operation, &reason)
                .await
        }
        .await,
    )
}

/// A site's fleet: live alarms (and last week's resolved ones), held cut-offs, rules.
#[server(prefix = "/api", endpoint = "site_fleet")]
pub async fn load_site_fleet(
    site: String,
    #[server(default)] resolved: bool,
) -> Result<SiteFleet, AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, org) = guard::site(&ports, &caller, &site, MeterAction::View).await?;
            let overview = ports.directory.site_overview(site).await?;
            let units = overview
                .buildings
                .iter()
                .flat_map(|building| {
                    building
                        .units
                        .iter()
                        .map(move |unit| (unit.id.0, format!("{} · {}", building.name, unit.name)))
                })
                .collect();
            Ok(SiteFleet {
                site,
                site_name: overview.site.name,
                alarms: ports.fleet.site_alarms(site, resolved).await?,
                faults: ports.fleet.site_faults(site, resolved).await?,
                held_cut_offs: ports.fleet.held_cut_offs(site).await?,
                rules: ports.fleet.rules(site).await?,
                units,
                may_operate: caller.may_on_meter(MeterAction::Operate, site, org, None),
                may_manage: caller.may_on_meter(MeterAction::Manage, site, org, None),
                form_nonce: ports.accounts.form_nonce(),
            })
        }
        .await,
    )
}

/// Live alarms on the caller's own units.
#[server(prefix = "/api", endpoint = "my_alarms")]
pub async fn my_alarms() -> Result<Vec<AlarmView>, AppError> {
    answer(
        async {
            let caller = caller().await?;
            ports()?.fleet.my_alarms(&caller).await
        }
        .await,
    )
}

/// `acknowledge` or `resolve` an alarm, with an optional note kept with it; or add a `note`
/// on its own, which the form's `nonce` keeps once however often it is sent.
#[server(prefix = "/api", endpoint = "alarm_step")]
pub async fn alarm_step(
    alarm: String,
    step: String,
    #[server(default)] note: String,
    #[server(default)] nonce: String,
) -> Result<(), AppError> {
    use crate::domain::{MeterAction, fleet::AlarmStep};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let alarm = guard::alarm(&ports, &caller, &alarm, MeterAction::Operate).await?;
            let step = match step.as_str() {
                "acknowledge" => AlarmStep::Acknowledge,
                "resolve" => AlarmStep::Resolve,
                "note" => return ports.fleet.note_alarm(&caller, alarm, &note, &nonce).await,
                _ => {
                    return Err(AppError::Invalid(
                        "Acknowledge, resolve or add a note.".into(),
                    ));
                }
            };
            ports.fleet.step_alarm(&caller, alarm, step, &note).await
        }
        .await,
    )
}

/// The resident reports a fault about their account; managers of the site hear of it. The
/// form's `nonce` makes sending it twice one report. Answers the report's number.
#[server(prefix = "/api", endpoint = "report_fault")]
pub async fn report_fault(
    account: String,
    kind: String,
    details: String,
    nonce: String,
) -> Result<i64, AppError> {
    use crate::{api::accounts::guard, domain::access::AccountAction, domain::faults::FaultReport};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (account, _) =
                guard::allow(&ports, &caller, &account, AccountAction::ResidentChoice).await?;
            let report = FaultReport::parse(&kind, &details).map_err(AppError::invalid)?;
            let (id, _) = ports
                .fleet
                .report_fault(&caller, account, report, &nonce)
                .await?;
            // The form is posted by the browser itself: back to the account, which says
            // the report went.
            super::ssr::after_form_post(&format!("/accounts/{account}?fault={id}#faults"));
            Ok(id)
        }
        .await,
    )
}

/// What was reported about an account, for whoever may see the account.
#[server(prefix = "/api", endpoint = "account_faults")]
pub async fn account_faults(account: String) -> Result<Vec<FaultView>, AppError> {
    use crate::{api::accounts::guard, domain::access::AccountAction};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (account, _) = guard::allow(&ports, &caller, &account, AccountAction::View).await?;
            ports.fleet.account_faults(account).await
        }
        .await,
    )
}

/// Closes a fault report with what was done: operators and managers of its site.
#[server(prefix = "/api", endpoint = "close_fault")]
pub async fn close_fault(fault: String, note: String) -> Result<(), AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let fault = guard::fault(&ports, &caller, &fault, MeterAction::Operate).await?;
            ports.fleet.close_fault(&caller, fault, &note).await
        }
        .await,
    )
}

/// Sends the credit cut-offs the site's cap held back.
#[server(prefix = "/api", endpoint = "release_cut_offs")]
pub async fn release_cut_offs(site: String) -> Result<u64, AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, _) = guard::site(&ports, &caller, &site, MeterAction::Manage).await?;
            ports.fleet.release_held(&caller, site).await
        }
        .await,
    )
}

/// Installs a meter on a unit; an MQTT meter's broker password is in the answer, once.
#[server(prefix = "/api", endpoint = "install_meter")]
pub async fn install_meter(
    unit: String,
    serial: String,
    utility: String,
    #[server(default)] multiplier: String,
    first_register: String,
    #[server(default)] transport: String,
    #[server(default)] sleeps: Option<String>,
    #[server(default)] switches_rates: Option<String>,
) -> Result<InstalledMeter, AppError> {
    use crate::domain::{MeterAction, fleet::MeterForm};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let unit = guard::unit(&ports, &caller, &unit, MeterAction::Manage).await?;
            let form = MeterForm {
                serial,
                utility,
                multiplier,
                first_register,
                transport,
                sleeps: sleeps.is_some(),
                switches_rates: switches_rates.is_some(),
            };
            ports.fleet.install(&caller, unit, form).await
        }
        .await,
    )
}

/// Replaces a meter: the old one's final reading, then the new one's first.
#[server(prefix = "/api", endpoint = "replace_meter")]
pub async fn replace_meter(
    meter: String,
    final_register: String,
    serial: String,
    utility: String,
    #[server(default)] multiplier: String,
    first_register: String,
    #[server(default)] transport: String,
    #[server(default)] sleeps: Option<String>,
    #[server(default)] switches_rates: Option<String>,
) -> Result<InstalledMeter, AppError> {
    use crate::domain::{MeterAction, fleet::MeterForm};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) = guard::meter(&ports, &caller, &meter, MeterAction::Manage).await?;
            let form = MeterForm {
                serial,
                utility,
                multiplier,
                first_register,
                transport,
                sleeps: sleeps.is_some(),
                switches_rates: switches_rates.is_some(),
            };
            ports
                .fleet
                .replace(&caller, id, &final_register, form)
                .await
        }
        .await,
    )
}

/// Corrects a meter's serial or multiplier, as recorded; for those who manage the site's meters.
#[server(prefix = "/api", endpoint = "correct_meter")]
pub async fn correct_meter(
    meter: String,
    serial: String,
    multiplier: String,
) -> Result<bool, AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) = guard::meter(&ports, &caller, &meter, MeterAction::Manage).await?;
            ports.fleet.correct(&caller, id, &serial, &multiplier).await
        }
        .await,
    )
}

/// Links a meter to the master meter (a bulk meter of its site) with the serial `master`;
/// an empty `master` unlinks it. For those who manage the site's meters.
#[server(prefix = "/api", endpoint = "master_meter")]
pub async fn link_master(meter: String, #[server(default)] master: String) -> Result<(), AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) = guard::meter(&ports, &caller, &meter, MeterAction::Manage).await?;
            ports.fleet.set_master(&caller, id, &master).await
        }
        .await,
    )
}

/// Takes a meter out of service after its final reading.
#[server(prefix = "/api", endpoint = "decommission_meter")]
pub async fn decommission_meter(meter: String, final_register: String) -> Result<(), AppError> {
    use crate::domain::MeterAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) = guard::meter(&ports, &caller, &meter, MeterAction::Manage).await?;
            ports.fleet.decommission(&caller, id, &final_register).await
        }
        .await,
    )
}

/// Saves the site's fleet rules from the console's form.
#[server(prefix = "/api", endpoint = "save_fleet_rules")]
pub async fn save_fleet_rules(
    site: String,
    offline_after_minutes: i64,
    clock_drift_limit_s: i64,
    #[server(default)] overload_kw: String,
    overload_for_s: i64,
    overload_action: String,
    load_limit_kw: String,
    #[server(default)] water_flow_hours: String,
    #[server(default)] water_spike_per_hour: String,
    #[server(default)] water_shut_off: Option<String>,
    credit_cuts_per_minute: u32,
    reconnects_per_second: u32,
) -> Result<(), AppError> {
    use crate::domain::{
        MeterAction,
        fleet::{FleetRules, OverloadAction},
    };
    let invalid = |what: &str| AppError::Invalid(format!("{what} is not a number."));
    let optional = |raw: &str, what: &str| -> Result<Option<rust_decimal::Decimal>, AppError> {
        let raw = raw.trim();
        if raw.is_empty() {
            Ok(None)
        } else {
            raw.parse().map(Some).map_err(|_| invalid(what))
        }
    };
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, _) = guard::site(&ports, &caller, &site, MeterAction::Manage).await?;
            let current = ports.fleet.rules(site).await?;
            let rules = FleetRules {
                offline_after_minutes,
                clock_drift_limit_s,
                overload_kw: optional(&overload_kw, "The overload limit")?,
                overload_for_s,
                overload_action: match overload_action.as_str() {
                    "limit" => OverloadAction::Limit,
                    _ => OverloadAction::Cut,
                },
                load_limit_kw: load_limit_kw
                    .trim()
                    .parse()
                    .map_err(|_| invalid("The load limit"))?,
                water_flow_hours: match water_flow_hours.trim() {
                    "" => None,
                    hours => Some(hours.parse().map_err(|_| invalid("The flow time"))?),
                },
                water_spike_per_hour: optional(&water_spike_per_hour, "The spike limit")?,
                water_shut_off: water_shut_off.is_some(),
                credit_cuts_per_minute,
                reconnects_per_second,
                ..current
            };
            ports.fleet.set_rules(&caller, site, rules).await
        }
        .await,
    )
}
