//! The meter fleet's pages: one meter (status, remote operations with each command's live
//! delivery status, life cycle), a site's fleet (alarms, held cut-offs, installing meters,
//! anomaly rules), and the alarm list residents see on their home page.

use crate::api::fleet::{
    AlarmStep, CloseFault, CorrectMeter, DecommissionMeter, InstallMeter, LinkMaster, OperateMeter,
    ReleaseCutOffs, ReplaceMeter, SaveFleetRules, load_meter, load_site_fleet, meter_html,
};
use crate::domain::fleet::{
    ALARM_NOTE_MAX, AlarmView, CommandView, MeterDetail, MeterPageData, OverloadAction, Payer,
    SiteFleet,
};
use crate::domain::{
    alarm_details::AlarmDetail,
    i18n::{Locale, Words},
    money::{exact_amount, exact_quantity, group_thousands},
    notices::alarm_title,
    reading_notes::ReadingNote,
    register::RegisterStep,
    site::Multiplier,
    zone::SiteZone,
};
use crate::pages::{error_view, faults::FaultList, form_error, live, locale::use_locale, words::*};
use leptos::prelude::*;
use leptos_meta::Title;
use std::time::Duration;

/// A time on the site's clock, written the page's way.
fn on_site(zone: &SiteZone) -> impl Fn(chrono::DateTime<chrono::Utc>) -> String + use<> {
    let zone = zone.clone();
    let locale = use_locale();
    move |at| locale.date_time(zone.local(at))
}

/// `/meters/:id`. Residents get the page drawn on the server and kept current by a small
/// island that swaps in what the server draws again (`meter_html`); staff, who operate the
/// meter from here, get the page as one island with its forms. Either starts from the one
/// load made here.
#[component]
pub fn MeterPage() -> impl IntoView {
    let id = crate::pages::route_id();
    let page = Resource::new(move || id.clone(), load_meter);
    let l = use_locale();
    view! {
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || Suspend::new(async move {
                let data = match page.await {
                    Ok(data) => data,
                    Err(error) => return error_view(error),
                };
                let title = meter_title(&data, l);
                let body = if data.may_operate || data.may_manage {
                    let meter = data.meter.id.to_string();
                    // A meter out of service keeps its tokens' history and takes no new set-up.
                    let manage = data.may_manage && data.meter.removed_at.is_none();
                    view! {
                        <MeterIsland data/>
                        <ReadingsDownload meter=meter.clone() resident=false/>
                        <crate::pages::tokens::MeterTokensPanel meter manage/>
                    }
                    .into_any()
                } else {
                    let id = data.meter.id.to_string();
                    view! {
                        <LiveMeter id=id.clone() html=meter_drawing(data)/>
                        <ReadingsDownload meter=id resident=true/>
                    }
                    .into_any()
                };
                view! { <Title text=title/> {body} }.into_any()
            })}
        </Suspense>
    }
}

/// A resident's meter as the server drew it, drawn again every [`live::REFRESH`].
#[island(lazy)]
fn LiveMeter(id: String, html: String) -> impl IntoView {
    crate::pages::island_ready();
    let html = live::redrawn(html, live::REFRESH, move || meter_html(id.clone()));
    view! { <div class="meter-live" aria-live="polite" inner_html=move || html.get()></div> }
}

/// A meter's page without forms, as HTML for [`LiveMeter`].
pub fn meter_drawing(data: MeterPageData) -> String {
    view! { <MeterView data staff=None/> }.to_html()
}

fn meter_title(data: &MeterPageData, l: Locale) -> String {
    METER_TITLE.fill(l, &[data.meter.utility.label_in(l), &data.meter.serial])
}

/// A meter for staff: its forms, and its figures and commands asked for again every two
/// seconds and after each action (a failed refresh keeps what is shown).
#[island(lazy)]
fn MeterIsland(data: MeterPageData) -> impl IntoView {
    crate::pages::island_ready();
    let staff = StaffActions {
        operate: ServerAction::new(),
        replace: ServerAction::new(),
        decommission: ServerAction::new(),
        step: ServerAction::new(),
        master: ServerAction::new(),
        correct: ServerAction::new(),
        // Kept here, outside what each refresh redraws, as the forms' fields are.
        replace_final: RwSignal::new(String::new()),
        decommission_final: RwSignal::new(String::new()),
    };
    let id = data.meter.id.to_string();
    let data = RwSignal::new(data);
    let tick = live::ticker(Duration::from_secs(2));
    Effect::watch(
        move || {
            (
                staff.operate.version().get(),
                staff.replace.version().get(),
                staff.decommission.version().get(),
                staff.step.version().get(),
                staff.master.version().get(),
                staff.correct.version().get(),
                tick.get(),
            )
        },
        move |_, _, _| {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = load_meter(id).await {
                    data.set(fresh);
                }
            });
        },
        false,
    );
    move || view! { <MeterView data=data.get() staff=Some(staff)/> }
}

/// What staff do from a meter's page.
#[derive(Clone, Copy)]
struct StaffActions {
    operate: ServerAction<OperateMeter>,
    replace: ServerAction<ReplaceMeter>,
    decommission: ServerAction<DecommissionMeter>,
    step: ServerAction<AlarmStep>,
    master: ServerAction<LinkMaster>,
    correct: ServerAction<CorrectMeter>,
    /// The final readings typed in the life-cycle forms, for what each counts as used.
    replace_final: RwSignal<String>,
    decommission_final: RwSignal<String>,
}

/// A meter's status, alarms and commands, with the forms `staff` may use.
#[component]
fn MeterView(data: MeterPageData, staff: Option<StaffActions>) -> impl IntoView {
    let l = use_locale();
    let title = meter_title(&data, l);
    let meter = data.meter;
    let id = meter.id.to_string();
    let in_service = meter.removed_at.is_none();
    let operate = staff.filter(|_| data.may_operate && in_service);
    let manage = staff.filter(|_| data.may_manage && in_service);
    let step = staff.filter(|_| data.may_operate).map(|staff| staff.step);
    view! {
        <p class="breadcrumb">
            {if data.may_operate {
                view! { <a href=format!("/manage/sites/{}/fleet", meter.site)>{format!("{} fleet", meter.site_name)}</a> }.into_any()
            } else {
                view! { <a href="/">{HOME.get(l)}</a> }.into_any()
            }}
        </p>
        <h1>{title}</h1>
        <MeterStatus meter=meter.clone()/>
        // Outside the life-cycle card: once replaced, the old meter is shown out of service
        // and the card goes, but the new one's broker password must stay on screen.
        {staff.map(|staff| view! { <Replacement replace=staff.replace/> })}
        {operate.map(|staff| view! { <Operations id=id.clone() operate=staff.operate/> })}
        {(!meter.alarms.is_empty()).then(|| view! { <AlarmTable alarms=meter.alarms.clone() step nonce=data.form_nonce.clone()/> })}
        {(!meter.commands.is_empty()).then(|| view! { <Commands commands=meter.commands.clone() zone=meter.zone.clone()/> })}
        {(!meter.readings.is_empty()).then(|| view! { <Readings meter=meter.clone()/> })}
        {manage.map(|staff| view! {
            <MasterLink id=id.clone() master=meter.master.clone() link=staff.master/>
            <Correction id=id.clone() serial=meter.serial.clone() multiplier=meter.multiplier.clone() correct=staff.correct/>
        })}
        {manage.map(|staff| {
            let dial = Dial {
                last: meter.last_register.as_deref().and_then(decimal),
                wraps_at: meter.wraps_at.as_deref().and_then(decimal),
                multiplier: Multiplier::parse(&meter.multiplier).unwrap_or(Multiplier::ONE).value(),
                unit_of_measure: meter.unit_of_measure.clone(),
                pricing: meter.pricing.clone(),
                payer: meter.payer.clone(),
            };
            view! {
                <LifeCycle id=id.clone() utility=meter.utility.as_str() sleeps=meter.sleeps switches_rates=meter.switches_rates
                    dial staff/>
            }
        })}
    }
    .into_any()
}

#[component]
fn MeterStatus(meter: MeterDetail) -> impl IntoView {
    let (online, online_words) = if meter.removed_at.is_some() {
        ("out of service", OUT_OF_SERVICE)
    } else if meter.online {
        ("online", ONLINE)
    } else {
        ("offline", OFFLINE)
    };
    let when = on_site(&meter.zone);
    let l = use_locale();
    let reported = meter.relay_reported.as_deref().map_or_else(
        || NOT_REPORTED.get(l).into(),
        |relay| METER_REPORTS.fill(l, &[&supply_words(relay, l)]),
    );
    view! {
        <article class="card meter-status" data-meter=meter.id.to_string()>
            <p class=format!("supply relay-{}", meter.relay_wanted)>
                {SUPPLY.get(l)} <strong class="relay" data-relay=meter.relay_wanted.clone()>{supply_words(&meter.relay_wanted, l)}</strong>
                {reported}
                {meter.safety_hold.as_deref().map(|hold| view! {
                    <span class="hold" data-hold=hold.to_owned()>{HELD_CLOSED.fill(l, &[&supply_words(hold, l)])}</span>
                })}
            </p>
            <dl class="facts">
                <div><dt>{UNIT.get(l)}</dt><dd>{meter.unit.clone()}</dd></div>
                <div><dt>{STATUS.get(l)}</dt><dd class=format!("online-{online}") data-online=online>{online_words.get(l)}</dd></div>
                <div><dt>{LAST_SEEN.get(l)}</dt><dd>{meter.last_seen_at.map(&when).unwrap_or_else(|| NEVER.get(l).into())}</dd></div>
                <div><dt>{LAST_READING.get(l)}</dt><dd class="last-register">{match (meter.last_register.clone(), meter.last_reading_at) {
                    (Some(register), Some(at)) => READING_AT.fill(l, &[&group_thousands(&register), &when(at)]),
                    _ => NONE_YET.get(l).into(),
                }}</dd></div>
                <div><dt>{SIGNAL.get(l)}</dt><dd>{meter.signal_dbm.map(|s| format!("{s} dBm")).unwrap_or_else(|| NONE_YET.get(l).into())}</dd></div>
                <div><dt>{BATTERY.get(l)}</dt><dd>{meter.battery_pct.map(|b| format!("{b} %")).unwrap_or_else(|| MAINS.get(l).into())}</dd></div>
                <div><dt>{CLOCK.get(l)}</dt><dd>{meter.clock_offset_s.map(|s| format!("{s:+} s")).unwrap_or_else(|| NONE_YET.get(l).into())}</dd></div>
                <div><dt>{TRANSPORT.get(l)}</dt><dd>{format!(
                    "{}{}{}",
                    meter.transport,
                    if meter.sleeps { SLEEPS.get(l) } else { "" },
                    if meter.switches_rates { SWITCHES_RATES.get(l) } else { "" },
                )}</dd></div>
                <div><dt>{MULTIPLIER.get(l)}</dt><dd>{meter.multiplier.clone()}</dd></div>
                <div><dt>{INSTALLED.get(l)}</dt><dd>{when(meter.installed_at)}</dd></div>
                {meter.master.clone().map(|(id, serial)| view! {
                    <div><dt>{FED_THROUGH.get(l)}</dt><dd class="master-meter"><a href=format!("/meters/{id}")>{serial}</a></dd></div>
                })}
                {meter.replaces.clone().map(|(id, serial)| view! {
                    <div><dt>{REPLACES.get(l)}</dt><dd class="replaces"><a href=format!("/meters/{id}")>{serial}</a></dd></div>
                })}
                {meter.replaced_by.clone().map(|(id, serial)| view! {
                    <div><dt>{REPLACED_BY.get(l)}</dt><dd class="replaced-by"><a href=format!("/meters/{id}")>{serial}</a></dd></div>
                })}
                {(meter.sub_meters > 0).then(|| view! {
                    <div class="wide"><dt>{FEEDS.get(l)}</dt><dd class="sub-meters">
                        <a href=format!("/manage/sites/{}/losses", meter.site)>{FEEDS_METERS.fill(l, &[&meter.sub_meters.to_string()])}</a>
                    </dd></div>
                })}
            </dl>
        </article>
    }
}

/// A relay's position or a safety hold's reason as stored, in the page's words; one this page
/// does not know as it is.
pub(crate) fn supply_words(stored: &str, l: Locale) -> String {
    let words = match stored {
        "open" => RELAY_OPEN,
        "closed" => RELAY_CLOSED,
        "restricted" => RELAY_RESTRICTED,
        "armed" => RELAY_ARMED,
        "gas_leak" => HOLD_GAS_LEAK,
        "overload" => HOLD_OVERLOAD,
        "tamper" => HOLD_TAMPER,
        "water_leak" => HOLD_WATER_LEAK,
        "manager" => HOLD_MANAGER,
        other => return other.replace('_', " "),
    };
    words.get(l).to_owned()
}

#[component]
fn Operations(id: String, operate: ServerAction<OperateMeter>) -> impl IntoView {
    let done = move || operate.value().get().is_some_and(|r| r.is_ok());
    let simple = |op: &'static str, label: &'static str| {
        let id = id.clone();
        view! {
            <ActionForm action=operate attr:class="inline">
                <input type="hidden" name="meter" value=id/>
                <input type="hidden" name="op" value=op/>
                <button type="submit" data-op=op>{label}</button>
            </ActionForm>
        }
    };
    let (relay_id, limit_id) = (id.clone(), id.clone());
    view! {
        <section class="card operations">
            <h2>"Remote operations"</h2>
            <div class="buttons">
                {simple("read", "Read now")}
                {simple("sync_clock", "Sync clock")}
                {simple("tou_schedule", "Send time-of-use schedule")}
            </div>
            <ActionForm action=operate attr:class="relay-form">
                <input type="hidden" name="meter" value=relay_id/>
                <label>"Reason (kept in the audit log)"
                    <input type="text" name="reason" maxlength="200" autocomplete="off"/>
                </label>
                <button type="submit" name="op" value="close" data-op="close">"Close supply"</button>
                <button type="submit" name="op" value="open" data-op="open">"Open supply"</button>
            </ActionForm>
            <ActionForm action=operate attr:class="inline">
                <input type="hidden" name="meter" value=limit_id/>
                <input type="hidden" name="op" value="load_limit"/>
                <label>"Load limit (kW)" <input type="text" name="kw" inputmode="decimal" size="6" required/></label>
                <label>"Reason" <input type="text" name="reason" maxlength="200" required/></label>
                <button type="submit" data-op="load_limit">"Set load limit"</button>
            </ActionForm>
            {form_error(operate.value())}
            {move || done().then(|| view! { <p class="notice" role="status">"Queued: its status shows below."</p> })}
        </section>
    }
}

#[component]
fn Commands(commands: Vec<CommandView>, zone: SiteZone) -> impl IntoView {
    let when = on_site(&zone);
    let l = use_locale();
    view! {
        <section class="commands">
            <h2>{COMMANDS.get(l)}</h2>
            <table>
                <thead><tr>
                    <th scope="col">"#"</th><th scope="col">{COMMAND.get(l)}</th><th scope="col">{WHY.get(l)}</th>
                    <th scope="col">{STATUS.get(l)}</th><th scope="col">{ATTEMPTS.get(l)}</th><th scope="col">{QUEUED.get(l)}</th>
                </tr></thead>
                <tbody>
                    {commands.into_iter().map(|c| view! {
                        <tr class=format!("command status-{}", c.status) data-command=c.command.clone() data-status=c.status.clone()>
                            <td>{c.seq}</td>
                            <td>{c.command.replace('_', " ")}</td>
                            <td>{c.reason}</td>
                            <td class="status">{c.status.clone()}{c.error.map(|e| format!(" ({e})"))}</td>
                            <td class="num">{c.attempts}</td>
                            <td>{when(c.created_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The meter's newest readings: what each measured, what it was charged, and why not.
#[component]
fn Readings(meter: MeterDetail) -> impl IntoView {
    let when = on_site(&meter.zone);
    let l = use_locale();
    let none = || NONE_YET.get(l).to_owned();
    let (uom, currency, digits) = (meter.unit_of_measure, meter.currency, meter.digits);
    view! {
        <section class="readings">
            <h2>{RECENT_READINGS.get(l)}</h2>
            <table>
                <thead><tr>
                    <th scope="col">{TAKEN.get(l)}</th><th scope="col">{REGISTER.get(l)}</th><th scope="col">{USED.get(l)}</th>
                    <th scope="col">{CHARGED.get(l)}</th><th scope="col">{STATUS.get(l)}</th><th scope="col">{NOTE.get(l)}</th>
                </tr></thead>
                <tbody>
                    {meter.readings.into_iter().map(|r| {
                        let (used, charged) = (r.used(&uom), r.charged(&currency, digits));
                        view! {
                            <tr class=format!("reading status-{}", r.status) data-status=r.status.clone()>
                                <td>{when(r.taken_at)}</td>
                                <td class="num">{group_thousands(&r.register)}</td>
                                <td class="num">{used.unwrap_or_else(none)}</td>
                                <td class="num charged">{charged.unwrap_or_else(none)}</td>
                                <td class="status">{reading_status(&r.status).map_or_else(|| r.status.clone(), |words| words.get(l).to_owned())}</td>
                                <td class="note">{r.note.map(|note| ReadingNote::parse(&note).map_or(note, |known| known.label_in(l)))}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// An alarm's status, or the step a note was written with, in the reader's words; an unknown
/// one as it is stored.
fn alarm_status(status: &str, l: Locale) -> String {
    let words = match status {
        "open" => ALARM_OPEN,
        "acknowledged" => ALARM_ACKNOWLEDGED,
        "resolved" => ALARM_RESOLVED,
        other => return other.to_owned(),
    };
    words.get(l).to_owned()
}

/// A reading's status in the page's words; `None` for one this page does not know.
fn reading_status(status: &str) -> Option<Words> {
    Some(match status {
        "baseline" => READING_BASELINE,
        "rated" => READING_RATED,
        "late" => READING_LATE,
        "rejected" => READING_REJECTED,
        _ => return None,
    })
}

/// Every reading over some of the site's days as a file: a plain form, drawn once on the
/// server outside the island that redraws the meter, so the days typed stay put.
#[component]
fn ReadingsDownload(meter: String, resident: bool) -> impl IntoView {
    let l = use_locale();
    view! {
        <form method="get" action=format!("/meters/{meter}/readings.csv") class="card readings-download">
            <h2>{READINGS_FILE.get(l)}</h2>
            <p class="hint">
                {READINGS_FILE_HINT.get(l)}
                {resident.then(|| format!(" {}", READINGS_FILE_HINT_RESIDENT.get(l)))}
            </p>
            <label>{FIRST_DAY.get(l)} <input type="date" name="from"/></label>
            <label>{LAST_DAY.get(l)} <input type="date" name="to"/></label>
            <button type="submit">{DOWNLOAD_CSV.get(l)}</button>
        </form>
    }
}

/// Alarms with their notes and, for staff who may, the buttons that move them on or add a
/// note (`nonce` keeps a note sent twice once).
#[component]
pub fn AlarmTable(
    alarms: Vec<AlarmView>,
    step: Option<ServerAction<AlarmStep>>,
    #[prop(optional)] nonce: String,
) -> impl IntoView {
    let l = use_locale();
    view! {
        <section class="alarms">
            <h2>{ALARMS.get(l)}</h2>
            {step.map(|step| form_error(step.value()))}
            <ul class="alarm-list">
                {alarms.into_iter().map(|alarm| {
                    let place = [alarm.unit.clone(), alarm.meter.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                    let nonce = nonce.clone();
                    let actions = step.map(|step| {
                        let id = alarm.id.to_string();
                        let live = alarm.status != "resolved";
                        let acknowledge = (alarm.status == "open").then(|| view! {
                            <button type="submit" name="step" value="acknowledge">"Acknowledge"</button>
                        });
                        let resolve = live.then(|| view! {
                            <button type="submit" name="step" value="resolve">"Resolve"</button>
                        });
                        view! {
                            <ActionForm action=step attr:class="inline alarm-actions">
                                <input type="hidden" name="alarm" value=id/>
                                <input type="hidden" name="nonce" value=nonce/>
                                <input type="text" name="note" placeholder="Note" aria-label="Note" maxlength=ALARM_NOTE_MAX.to_string() size="24"/>
                                {acknowledge}
                                {resolve}
                                <button type="submit" name="step" value="note" class="secondary">"Add note"</button>
                            </ActionForm>
                        }
                    });
                    let notes = (!alarm.notes.is_empty()).then(|| view! {
                        <ol class="alarm-notes">
                            {alarm.notes.iter().map(|note| view! {
                                <li class=format!("alarm-note step-{}", note.step)>
                                    <span class="when">{l.date_time(note.at_local)}</span>
                                    {format!(" · {}", note.by)}
                                    {(note.step != "note").then(|| format!(" ({})", alarm_status(&note.step, l)))}
                                    ": "<span class="note-text">{note.note.clone()}</span>
                                </li>
                            }).collect_view()}
                        </ol>
                    });
                    view! {
                        <li class=format!("alarm severity-{} status-{}", alarm.severity, alarm.status) data-kind=alarm.kind.clone() data-alarm=alarm.id.to_string()>
                            <strong>{match l {
                                // The staff's labels are finer (a meter offline, a tamper); the
                                // notices' words cover what residents are shown.
                                Locale::En => alarm.label.clone(),
                                other => alarm_title(&alarm.kind, other).to_owned(),
                            }}</strong>
                            {(!place.is_empty()).then(|| view! { " · " {alarm.meter_id.map_or_else(
                                || view! { <span>{place.clone()}</span> }.into_any(),
                                |id| view! { <a href=format!("/meters/{id}")>{place.clone()}</a> }.into_any(),
                            )} })}
                            <span class="detail">{format!(" — {} ", AlarmDetail::reword(&alarm.detail, l, &|at| alarm.detail_clock.local(at)))}</span>
                            <span class="when">{l.date_time(alarm.opened_local)}</span>
                            <span class="alarm-status">{format!(" ({})", alarm_status(&alarm.status, l))}</span>
                            {notes}
                            {actions}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The bulk meter this one is fed through: named by its serial, or unlinked. Kept open (not in
/// a `<details>`), since the island redraws itself every two seconds.
#[component]
fn MasterLink(
    id: String,
    master: Option<(i64, String)>,
    link: ServerAction<LinkMaster>,
) -> impl IntoView {
    let unlink_id = id.clone();
    let serial = master
        .as_ref()
        .map(|(_, serial)| serial.clone())
        .unwrap_or_default();
    view! {
        <section class="card master-link">
            <h2>"Master meter"</h2>
            <p class="hint">"The bulk meter this one is fed through, for the loss report. A bulk meter is measured, neither charged nor cut for credit: the meters it feeds pay for what passes through it."</p>
            <ActionForm action=link attr:class="inline">
                <input type="hidden" name="meter" value=id/>
                <label>"Master's serial" <input type="text" name="master" value=serial required/></label>
                <button type="submit">"Link"</button>
            </ActionForm>
            {master.is_some().then(|| view! {
                <ActionForm action=link attr:class="inline">
                    <input type="hidden" name="meter" value=unlink_id/>
                    <input type="hidden" name="master" value=""/>
                    <button type="submit" class="unlink">"Unlink"</button>
                </ActionForm>
            })}
            {form_error(link.value())}
        </section>
    }
}

/// The meter's serial and multiplier as recorded, corrected in place (a meter exchanged for
/// another is a replacement, below).
#[component]
fn Correction(
    id: String,
    serial: String,
    multiplier: String,
    correct: ServerAction<CorrectMeter>,
) -> impl IntoView {
    let corrected = move || correct.value().get() == Some(Ok(true));
    view! {
        <section class="card meter-correction">
            <h2>"Correct the record"</h2>
            <p class="hint">"A serial typed wrong, or the current transformer's ratio. Past charges stay; the next reading counts with the new multiplier."</p>
            <ActionForm action=correct attr:class="inline">
                <input type="hidden" name="meter" value=id/>
                <label>"Serial" <input type="text" name="serial" value=serial required maxlength="64"/></label>
                <label>"Multiplier" <input type="text" name="multiplier" value=multiplier required inputmode="decimal"/></label>
                <button type="submit">"Correct"</button>
            </ActionForm>
            {form_error(correct.value())}
            {move || corrected().then(|| view! { <p class="notice corrected" role="status">"Corrected."</p> })}
        </section>
    }
}

/// Replacement and decommissioning. The replacement form starts ticked as the old meter was
/// (battery, switching rates): a like-for-like swap is the usual case.
#[component]
fn LifeCycle(
    id: String,
    utility: &'static str,
    sleeps: bool,
    switches_rates: bool,
    dial: Dial,
    staff: StaffActions,
) -> impl IntoView {
    let (replace, decommission) = (staff.replace, staff.decommission);
    let (replace_dial, decommission_dial) = (dial.clone(), dial);
    let old_id = id.clone();
    view! {
        <details class="card life-cycle">
            <summary>"Replace or decommission"</summary>
            <ActionForm action=replace>
                <h3>"Replace"</h3>
                <input type="hidden" name="meter" value=old_id/>
                <input type="hidden" name="utility" value=utility/>
                <label>"Old meter's final reading" <FinalRegister typed=staff.replace_final/></label>
                <FinalUse typed=staff.replace_final dial=replace_dial/>
                <label>"New serial" <input type="text" name="serial" required/></label>
                <label>"New meter's first reading" <input type="text" name="first_register" inputmode="decimal" required/></label>
                <label>"Multiplier" <input type="text" name="multiplier" value="1"/></label>
                <TransportChoice sleeps/>
                <label class="check"><input type="checkbox" name="switches_rates" value="on" checked=switches_rates/>" Switches time-of-use rates itself"</label>
                <button type="submit">"Replace the meter"</button>
            </ActionForm>
            {form_error(replace.value())}
            <ActionForm action=decommission>
                <h3>"Decommission"</h3>
                <input type="hidden" name="meter" value=id/>
                <label>"Final reading" <FinalRegister typed=staff.decommission_final/></label>
                <FinalUse typed=staff.decommission_final dial=decommission_dial/>
                <button type="submit">"Take out of service"</button>
            </ActionForm>
            {form_error(decommission.value())}
        </details>
    }
}

/// A meter's register as the life-cycle forms need it, to say what a final reading counts as
/// used.
#[derive(Clone)]
struct Dial {
    last: Option<rust_decimal::Decimal>,
    wraps_at: Option<rust_decimal::Decimal>,
    multiplier: rust_decimal::Decimal,
    unit_of_measure: String,
    /// What the next units cost now, where the final reading is charged.
    pricing: Option<crate::domain::planner::Pricing>,
    /// Who would pay them.
    payer: Option<Payer>,
}

fn decimal(text: &str) -> Option<rust_decimal::Decimal> {
    text.trim().parse().ok()
}

#[component]
fn FinalRegister(typed: RwSignal<String>) -> impl IntoView {
    view! {
        <input type="text" name="final_register" inputmode="decimal" required
            prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
    }
}

/// What the final reading typed counts as used, said before it is sent, by the rule rating
/// charges with: a digit too many would otherwise bill the household for a reservoir. (Not
/// "charged": a bulk meter's use is charged on its sub-meters.)
#[component]
fn FinalUse(typed: RwSignal<String>, dial: Dial) -> impl IntoView {
    move || {
        let last = dial.last?;
        let typed = decimal(&typed.get())?;
        // As the page writes the last register above: as the meter sent it, every place kept.
        let shown = group_thousands(&last.to_string());
        Some(match RegisterStep::between(last, typed, dial.wraps_at) {
            RegisterStep::Forward(turned) => {
                let quantity = turned * dial.multiplier;
                let used = exact_quantity(quantity);
                // Priced by the tariff's own rule from where the cycle's blocks stand, in
                // normal hours and before standing charges: hence "about".
                let cost = dial.pricing.as_ref().map(|pricing| {
                    let cost = exact_amount(pricing.cost_of(quantity, None), pricing.digits);
                    (cost, pricing.currency.clone())
                });
                let payer = dial.payer.as_ref();
                let priced = cost.as_ref().map_or_else(String::new, |(cost, currency)| {
                    let paid_by =
                        payer.map_or_else(String::new, |p| format!(", {}", p.charged_to()));
                    format!(": about {cost} {currency} at today's prices{paid_by}")
                });
                let payer = payer.map(|payer| match payer {
                    Payer::Account(number) => number.clone(),
                    Payer::Landlord => "landlord".to_owned(),
                });
                view! {
                    <p class="hint final-use" data-used=used.clone() data-cost=cost.map(|(cost, _)| cost) data-payer=payer>
                        {format!("That is {used} {} used since the last reading ({shown}){priced}.", dial.unit_of_measure)}
                    </p>
                }
                .into_any()
            }
            RegisterStep::Backwards => view! {
                <p class="hint final-use backwards">
                    {format!("Below the last reading ({shown}): it would be refused.")}
                </p>
            }
            .into_any(),
        })
    }
}

/// The meter that replaced this one, once the replacement has gone in.
#[component]
fn Replacement(replace: ServerAction<ReplaceMeter>) -> impl IntoView {
    move || {
        replace
            .value()
            .get()
            .and_then(Result::ok)
            .map(|meter| view! { <Installed meter/> })
    }
}

#[component]
fn TransportChoice(#[prop(optional)] sleeps: bool) -> impl IntoView {
    view! {
        <label>"Transport"
            <select name="transport">
                <option value="simulator">"Simulator"</option>
                <option value="mqtt">"MQTT"</option>
            </select>
        </label>
        <label class="check"><input type="checkbox" name="sleeps" value="on" checked=sleeps/>" Battery meter (sleeps between uplinks)"</label>
    }
}

#[component]
fn Installed(meter: crate::domain::fleet::InstalledMeter) -> impl IntoView {
    view! {
        <div class="notice installed" role="status">
            <p>"Installed " <a href=format!("/meters/{}", meter.id)>{meter.serial.clone()}</a> "."</p>
            {meter.broker_password.map(|password| view! {
                <p>"Broker user " <code>{meter.serial.clone()}</code> ", password "
                    <code class="broker-password">{password}</code>
                    ". Put it in the meter now: it is not shown again."</p>
            })}
        </div>
    }
}

/// `/manage/sites/:id/fleet`: rendered on the server, brought to life in the browser as one island.
#[component]
pub fn SiteFleetPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <SiteFleetIsland id/> }
}

#[island(lazy)]
fn SiteFleetIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let step = ServerAction::<AlarmStep>::new();
    let release = ServerAction::<ReleaseCutOffs>::new();
    let install = ServerAction::<InstallMeter>::new();
    let rules = ServerAction::<SaveFleetRules>::new();
    let close = ServerAction::<CloseFault>::new();
    let tick = live::ticker(Duration::from_secs(5));
    let fleet = Resource::new(
        move || {
            (
                id.clone(),
                step.version().get(),
                release.version().get(),
                install.version().get(),
                rules.version().get(),
                close.version().get(),
                tick.get(),
            )
        },
        |(id, ..)| load_site_fleet(id, false),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match fleet.await {
                    Ok(fleet) => view! { <SiteFleetView fleet step release install rules close/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn SiteFleetView(
    fleet: SiteFleet,
    step: ServerAction<AlarmStep>,
    release: ServerAction<ReleaseCutOffs>,
    install: ServerAction<InstallMeter>,
    rules: ServerAction<SaveFleetRules>,
    close: ServerAction<CloseFault>,
) -> impl IntoView {
    let site = fleet.site.to_string();
    let title = format!("{}: meters and alarms", fleet.site_name);
    let held = (fleet.held_cut_offs > 0).then(|| {
        let site = site.clone();
        view! {
            <section class="notice held-cut-offs" role="alert">
                <p>{format!("{} credit cut-offs are held: more than the site allows per minute.", fleet.held_cut_offs)}</p>
                {fleet.may_manage.then(|| view! {
                    <ActionForm action=release attr:class="inline">
                        <input type="hidden" name="site" value=site/>
                        <button type="submit">"Send them now"</button>
                    </ActionForm>
                })}
            </section>
        }
    });
    let alarms = if fleet.alarms.is_empty() {
        view! { <p class="empty no-alarms">"No open alarms."</p> }.into_any()
    } else {
        view! { <AlarmTable alarms=fleet.alarms step=fleet.may_operate.then_some(step) nonce=fleet.form_nonce.clone()/> }
            .into_any()
    };
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{fleet.site_name.clone()}</a></p>
        <h1>{title}</h1>
        <p class="site-links"><a class="meters-link" href=format!("/manage/sites/{site}/meters")>"Every meter, with its battery, link and health"</a></p>
        {held}
        {alarms}
        <section class="faults">
            <h2>"Fault reports"</h2>
            {if fleet.faults.is_empty() {
                view! { <p class="empty">"No open fault reports."</p> }.into_any()
            } else {
                view! { <FaultList faults=fleet.faults close=fleet.may_operate.then_some(close)/> }.into_any()
            }}
        </section>
        {fleet.may_manage.then(|| view! { <InstallForm units=fleet.units.clone() install/> })}
        {fleet.may_manage.then(|| view! { <RulesForm site=site.clone() rules=fleet.rules.clone() action=rules/> })}
    }
    .into_any()
}

#[component]
fn InstallForm(units: Vec<(i64, String)>, install: ServerAction<InstallMeter>) -> impl IntoView {
    let installed = move || install.value().get().and_then(Result::ok);
    view! {
        <details class="card install-form">
            <summary>"Install a meter"</summary>
            <ActionForm action=install>
                <label>"Unit"
                    <select name="unit" required>
                        {units.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Utility"
                    <select name="utility">
                        <option value="electricity">"Electricity"</option>
                        <option value="water">"Water"</option>
                        <option value="gas">"Gas"</option>
                    </select>
                </label>
                <label>"Serial" <input type="text" name="serial" required autocomplete="off"/></label>
                <label>"First reading" <input type="text" name="first_register" inputmode="decimal" required/></label>
                <label>"Multiplier" <input type="text" name="multiplier" value="1"/></label>
                <TransportChoice/>
                <label class="check"><input type="checkbox" name="switches_rates" value="on"/>" Switches time-of-use rates itself"</label>
                <p class="hint">"Such a meter is sent its tariff's time-of-use schedule when it is installed, and each new one as it takes effect."</p>
                <button type="submit">"Install"</button>
            </ActionForm>
            {form_error(install.value())}
            {move || installed().map(|meter| view! { <Installed meter/> })}
        </details>
    }
}

#[component]
fn RulesForm(
    site: String,
    rules: crate::domain::fleet::FleetRules,
    action: ServerAction<SaveFleetRules>,
) -> impl IntoView {
    let saved = move || action.value().get().is_some_and(|r| r.is_ok());
    let text = |value: Option<String>| value.unwrap_or_default();
    view! {
        <details class="card rules-form">
            <summary>"Anomaly and switching rules"</summary>
            <ActionForm action>
                <input type="hidden" name="site" value=site/>
                <label>"Offline after (minutes)" <input type="number" name="offline_after_minutes" min="1" value=rules.offline_after_minutes.to_string()/></label>
                <label>"Clock drift limit (s)" <input type="number" name="clock_drift_limit_s" min="1" value=rules.clock_drift_limit_s.to_string()/></label>
                <label>"Overload above (kW, empty: no rule)" <input type="text" name="overload_kw" value=text(rules.overload_kw.map(|v| v.to_string()))/></label>
                <label>"… for (s)" <input type="number" name="overload_for_s" min="1" value=rules.overload_for_s.to_string()/></label>
                <label>"Overload action"
                    <select name="overload_action">
                        <option value="cut" selected=rules.overload_action == OverloadAction::Cut>"Cut and hold"</option>
                        <option value="limit" selected=rules.overload_action == OverloadAction::Limit>"Limit the load"</option>
                    </select>
                </label>
                <label>"Load limit (kW)" <input type="text" name="load_limit_kw" value=rules.load_limit_kw.to_string()/></label>
                <label>"Water running for (hours, empty: no rule)" <input type="text" name="water_flow_hours" value=text(rules.water_flow_hours.map(|v| v.to_string()))/></label>
                <label>"Water spike above (m³ per hour)" <input type="text" name="water_spike_per_hour" value=text(rules.water_spike_per_hour.map(|v| v.to_string()))/></label>
                <label class="check"><input type="checkbox" name="water_shut_off" value="on" checked=rules.water_shut_off/>" Close the valve on a water alarm"</label>
                <label>"Credit cut-offs per minute" <input type="number" name="credit_cuts_per_minute" min="1" value=rules.credit_cuts_per_minute.to_string()/></label>
                <label>"Reconnections per second" <input type="number" name="reconnects_per_second" min="1" value=rules.reconnects_per_second.to_string()/></label>
                <button type="submit">"Save rules"</button>
            </ActionForm>
            {form_error(action.value())}
            {move || saved().then(|| view! { <p class="notice" role="status">"Saved."</p> })}
        </details>
    }
}
