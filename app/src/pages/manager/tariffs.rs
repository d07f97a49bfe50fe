//! `/manage/sites/:id/tariffs`: the site's tariff versions per utility, the proposals waiting
//! for a second person, and the editor. The editor prices a sample month for the version in
//! force and the draft side by side in the browser, with the code that charges readings; a
//! proposal takes effect only once another manager or an admin approves it.

use crate::api::tariffs::{DecideTariff, ProposeTariff, load_tariff_book};
use crate::domain::{
    Utility,
    money::group_thousands,
    planner::fixed,
    tariff::{
        BandKind, Days, Plan, Tariff,
        book::{
            Draft, DraftBand, DraftTier, Proposal, ProposalState, SAMPLE_DAYS, SampleBill,
            TariffBook, UtilityTariffs, sample_bill,
        },
    },
};
use crate::pages::{error_view, form_error};
use chrono::{DateTime, Duration, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use rust_decimal::Decimal;
use std::str::FromStr;

#[component]
pub fn TariffsPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <TariffsIsland id/> }
}

/// The book, the proposals' buttons and the editor: one island, as a decision or a proposal
/// reads the book again.
#[island(lazy)]
fn TariffsIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let site = StoredValue::new(id);
    let propose = ServerAction::<ProposeTariff>::new();
    let decide = ServerAction::<DecideTariff>::new();
    let book = Resource::new(
        move || {
            (
                site.get_value(),
                propose.version().get(),
                decide.version().get(),
            )
        },
        |(site, _, _)| load_tariff_book(site),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading tariffs…"</p> }>
            {move || Suspend::new(async move {
                match book.await {
                    Ok(book) => view! { <Book book site=site.get_value() propose decide/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Book(
    book: TariffBook,
    site: String,
    propose: ServerAction<ProposeTariff>,
    decide: ServerAction<DecideTariff>,
) -> impl IntoView {
    let title = format!("Tariffs · {}", book.site_name);
    let pending = book
        .proposals
        .iter()
        .filter(|p| p.state == ProposalState::Pending)
        .count();
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{book.site_name.clone()}</a></p>
        <h1>{title}</h1>
        <p>{format!(
            "Prices in {}, times on the site's clock ({}). A new version starts at a time you choose and applies to use from then on; what was charged already stands. A version takes effect only once a second person approves it.",
            book.currency, book.zone.name
        )}</p>
        <section class="tariff-versions">
            {book.utilities.iter().filter(|u| !u.versions.is_empty()).map(|u| view! { <Versions line=u.clone() book=book.clone()/> }).collect_view()}
        </section>
        <Plans book=book.clone()/>
        <section class="tariff-proposals">
            <h2>{format!("Proposals ({pending} waiting)")}</h2>
            {form_error(decide.value())}
            {move || decide.value().get().and_then(Result::ok).map(|()| view! {
                <p class="notice decided" role="status">"Decision recorded."</p>
            })}
            <Proposals book=book.clone() site=site.clone() decide/>
        </section>
        {book.may_change.then(|| view! { <Editor book=book.clone() site=site.clone() propose/> })}
    }
}

#[component]
fn Versions(line: UtilityTariffs, book: TariffBook) -> impl IntoView {
    let in_force = line.in_force(book.now).map(|v| v.effective_from);
    view! {
        <h2>{priced(&line.plan, line.utility)}</h2>
        <table class="account-table version-table" data-utility=line.utility.as_str() data-plan=line.plan.as_str().to_owned()>
            <thead>
                <tr>
                    <th scope="col">"From"</th>
                    <th scope="col">"Prices"</th>
                    <th scope="col">"Proposed by"</th>
                    <th scope="col">"Approved by"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {line.versions.iter().map(|version| {
                    let status = if Some(version.effective_from) == in_force {
                        "In force"
                    } else if version.effective_from > book.now {
                        "Upcoming"
                    } else {
                        "Past"
                    };
                    view! {
                        <tr class="version-line" data-status=status.to_lowercase().replace(' ', "-")>
                            <th scope="row">{local(&book, version.effective_from)}</th>
                            <td class="prices">{describe(&version.tariff, book.digits)}</td>
                            <td>{version.by.clone().unwrap_or_else(|| "Set up".to_owned())}</td>
                            <td>{version.approved_by.clone().unwrap_or_default()}</td>
                            <td>{status}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The site's plans and how many units each charges.
#[component]
fn Plans(book: TariffBook) -> impl IntoView {
    view! {
        <section class="tariff-plans">
            <h2>"Plans"</h2>
            <p class="hint">"Every unit pays the standard tariff unless it is put on a plan, from its page or for the accounts a search finds. A plan prices only the utilities it has versions for; for the others its units pay the standard tariff, and they do until the plan's first version starts. To start a plan, propose a version with a new plan name."</p>
            <table class="account-table plan-table">
                <thead><tr><th scope="col">"Plan"</th><th scope="col" class="num">"Units"</th></tr></thead>
                <tbody>
                    {book.plans.iter().map(|used| view! {
                        <tr class="plan-line" data-plan=used.plan.as_str().to_owned()>
                            <th scope="row">{used.plan.label().to_owned()}</th>
                            <td class="num units">{used.units}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// A utility's heading, with its plan unless it is the standard one.
fn priced(plan: &Plan, utility: Utility) -> String {
    if plan.is_standard() {
        utility.label().to_owned()
    } else {
        format!("{} · {}", utility.label(), plan.label())
    }
}

#[component]
fn Proposals(book: TariffBook, site: String, decide: ServerAction<DecideTariff>) -> impl IntoView {
    if book.proposals.is_empty() {
        return view! { <p class="empty">"Nothing has been proposed yet."</p> }.into_any();
    }
    let rows = book
        .proposals
        .iter()
        .map(|p| view! { <ProposalRow proposal=p.clone() book=book.clone() site=site.clone() decide/> })
        .collect_view();
    view! {
        <table class="account-table proposal-table">
            <thead>
                <tr>
                    <th scope="col">"Utility"</th>
                    <th scope="col">"From"</th>
                    <th scope="col">"Prices"</th>
                    <th scope="col">"Proposed by"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ProposalRow(
    proposal: Proposal,
    book: TariffBook,
    site: String,
    decide: ServerAction<DecideTariff>,
) -> impl IntoView {
    let waiting = proposal.state == ProposalState::Pending && book.may_change;
    let status = match (&proposal.decided_by, proposal.state) {
        (Some(by), state) if state != ProposalState::Pending => {
            format!("{} by {by}", state.label())
        }
        (_, state) => state.label().to_owned(),
    };
    let button = move |decision: &'static str, label: &'static str, class: &'static str| {
        view! {
            <ActionForm action=decide attr:class="decide-form">
                <input type="hidden" name="site" value=site.clone()/>
                <input type="hidden" name="proposal" value=proposal.id.to_string()/>
                <input type="hidden" name="decision" value=decision/>
                <button type="submit" class=class disabled=move || decide.pending().get()>{label}</button>
            </ActionForm>
        }
    };
    let actions = match (waiting, proposal.mine) {
        (false, _) => None,
        (true, true) => Some(
            view! {
                <small>"Another manager or an admin approves it."</small>
                {button("refuse", "Withdraw", "withdraw-proposal")}
            }
            .into_any(),
        ),
        (true, false) => Some(
            view! {
                {button.clone()("approve", "Approve and publish", "approve-proposal")}
                {button("refuse", "Refuse", "danger refuse-proposal")}
            }
            .into_any(),
        ),
    };
    view! {
        <tr class="proposal-line" data-state=format!("{:?}", proposal.state).to_lowercase() data-proposal=proposal.id.to_string()>
            <th scope="row">{priced(&proposal.plan, proposal.utility)}</th>
            <td>{local(&book, proposal.effective_from)}</td>
            <td class="prices">
                {describe(&proposal.tariff, book.digits)}
                {(!proposal.note.is_empty()).then(|| view! { <br/><small class="note">{proposal.note.clone()}</small> })}
            </td>
            <td>{proposal.proposed_by.clone()}</td>
            <td class="state">{status}</td>
            <td class="actions">{actions}</td>
        </tr>
    }
}

/// The editor: a draft started from the version in force, its sample bill beside the
/// current one's, and the proposal's form.
#[component]
fn Editor(book: TariffBook, site: String, propose: ServerAction<ProposeTariff>) -> impl IntoView {
    let book = StoredValue::new(book);
    let plan = RwSignal::new(Plan::standard());
    let current = move |plan: &Plan, utility: Utility| {
        book.with_value(|b| b.paid_now(plan, utility).cloned())
    };
    let utility = RwSignal::new(
        Utility::ALL
            .into_iter()
            .find(|u| current(&Plan::standard(), *u).is_some())
            .unwrap_or(Utility::Electricity),
    );
    let start_from = move |plan: &Plan, u| {
        Draft::of(&current(plan, u).unwrap_or_else(|| Tariff::flat(Decimal::ONE)))
    };
    let draft = RwSignal::new(start_from(&Plan::standard(), utility.get_untracked()));
    // The plan as typed; a name that cannot be a plan keeps the last good one.
    let plan_typed = RwSignal::new(String::new());
    let plan_problem = Memo::new(move |_| {
        plan_typed.with(|typed| Plan::parse(typed).err().map(|e| e.to_string()))
    });
    let known_plans: Vec<Plan> =
        book.with_value(|b| b.plans.iter().map(|p| p.plan.clone()).collect());
    let starts = RwSignal::new(book.with_value(|b| {
        let tomorrow = b.zone.local(b.now).date() + Duration::days(1);
        format!("{tomorrow}T00:00")
    }));
    let note = RwSignal::new(String::new());
    let quantity = RwSignal::new("200".to_owned());
    let parsed = Memo::new(move |_| draft.with(Draft::tariff));
    let offset = book.with_value(|b| b.zone.offset_at(b.now));
    let sample = move |tariff: &Tariff| {
        let quantity = Decimal::from_str(quantity.get().trim())
            .map_err(|_| "Type the sample's use as a number.".to_owned())?;
        if quantity.is_sign_negative() {
            return Err("The sample's use cannot be negative.".to_owned());
        }
        sample_bill(tariff, offset, quantity).map_err(|e| e.to_string())
    };
    let before = move || current(&plan.get(), utility.get()).map(|t| sample(&t));
    let after = move || parsed.get().and_then(|t| sample(&t));
    let definition = move || {
        parsed
            .get()
            .ok()
            .and_then(|t| serde_json::to_string(&t).ok())
            .unwrap_or_default()
    };
    let digits = book.with_value(|b| b.digits);
    let tier_count = Memo::new(move |_| draft.with(|d| d.tiers.len()));
    let band_count = Memo::new(move |_| draft.with(|d| d.bands.len()));
    view! {
        <section class="tariff-editor">
            <h2>"Propose a new version"</h2>
            <p>"The draft starts from the version the plan's units pay now. Blocks count each billing cycle's use; the last block is unlimited (leave its end empty). A time-of-use band multiplies the block's rate in its hours; hours no band covers are flat (×1). The demand charge and any monthly package carry over unchanged."</p>
            <div class="editor-head">
                <label>"Plan (empty: the standard tariff; a new name starts a plan)"
                    <input type="text" name="editor-plan" list="site-plans" maxlength=Plan::MAX_CHARS.to_string() autocomplete="off"
                        prop:value=move || plan_typed.get()
                        on:change=move |event| {
                            let typed = event_target_value(&event);
                            plan_typed.set(typed.clone());
                            if let Ok(chosen) = Plan::parse(&typed) {
                                draft.set(start_from(&chosen, utility.get_untracked()));
                                plan.set(chosen);
                            }
                        }/>
                    <datalist id="site-plans">
                        {known_plans.into_iter().filter(|p| !p.is_standard()).map(|p| view! { <option value=p.as_str().to_owned()/> }).collect_view()}
                    </datalist>
                </label>
                <label>"Utility"
                    <select name="editor-utility" on:change=move |event| {
                        let chosen = event_target_value(&event);
                        if let Some(u) = Utility::ALL.into_iter().find(|u| u.as_str() == chosen) {
                            utility.set(u);
                            draft.set(start_from(&plan.get_untracked(), u));
                        }
                    }>
                        {Utility::ALL.into_iter().map(|u| view! {
                            <option value=u.as_str() selected=move || utility.get() == u>{u.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Starts (site time)"
                    <input type="datetime-local" name="editor-starts" prop:value=move || starts.get() on:input=move |event| starts.set(event_target_value(&event))/>
                </label>
            </div>
            <table class="account-table tier-editor">
                <caption>"Blocks"</caption>
                <thead><tr><th scope="col">"Block"</th><th scope="col">"Ends at (cycle use)"</th><th scope="col">"Rate per unit"</th><th scope="col"></th></tr></thead>
                <tbody>
                    {move || (0..tier_count.get()).map(|i| view! { <TierRow i draft/> }).collect_view()}
                </tbody>
            </table>
            <button type="button" class="add-tier" on:click=move |_| draft.update(|d| d.tiers.push(DraftTier::default()))>"Add a block"</button>
            <table class="account-table band-editor">
                <caption>"Time-of-use bands"</caption>
                <thead><tr><th scope="col">"Band"</th><th scope="col">"Days"</th><th scope="col">"From"</th><th scope="col">"To"</th><th scope="col">"Factor"</th><th scope="col"></th></tr></thead>
                <tbody>
                    {move || (0..band_count.get()).map(|i| view! { <BandRow i draft/> }).collect_view()}
                </tbody>
            </table>
            <button type="button" class="add-band" on:click=move |_| draft.update(|d| d.bands.push(DraftBand::default()))>"Add a band"</button>
            <div class="editor-charges">
                <Field label="Standing charge per day" name="editor-standing" draft get=|d| d.standing_charge_per_day.clone() set=|d, v| d.standing_charge_per_day = v/>
                <Field label="Tax (%)" name="editor-tax" draft get=|d| d.tax_percent.clone() set=|d, v| d.tax_percent = v/>
                <Field label="Smallest top-up" name="editor-min-top-up" draft get=|d| d.min_top_up.clone() set=|d, v| d.min_top_up = v/>
                <Field label="Cycle starts on day" name="editor-cycle-day" draft get=|d| d.cycle_start_day.clone() set=|d, v| d.cycle_start_day = v/>
            </div>
            <section class="tariff-preview" aria-live="polite">
                <h3>"Sample bill"</h3>
                <label>{format!("Use over {SAMPLE_DAYS} days, spread evenly over every hour")}
                    <input type="text" inputmode="decimal" name="sample-quantity" prop:value=move || quantity.get() on:input=move |event| quantity.set(event_target_value(&event))/>
                </label>
                {move || match (before(), after()) {
                    (_, Err(problem)) => view! { <p class="form-error draft-problem" role="alert">{problem}</p> }.into_any(),
                    (before, Ok(after)) => view! { <SampleTable before=before.and_then(Result::ok) after digits/> }.into_any(),
                }}
            </section>
            <ActionForm action=propose attr:class="propose-form">
                <input type="hidden" name="site" value=site/>
                <input type="hidden" name="plan" prop:value=move || plan.get().as_str().to_owned()/>
                <input type="hidden" name="utility" prop:value=move || utility.get().as_str()/>
                <input type="hidden" name="starts" prop:value=move || starts.get()/>
                <input type="hidden" name="definition" prop:value=definition/>
                <label>"Note for the approver"
                    <input type="text" name="note" maxlength="500" prop:value=move || note.get() on:input=move |event| note.set(event_target_value(&event))/>
                </label>
                {move || plan_problem.get().map(|problem| view! { <p class="form-error plan-problem" role="alert">{problem}</p> })}
                <button type="submit" class="propose-tariff" disabled=move || parsed.get().is_err() || plan_problem.get().is_some() || propose.pending().get()>
                    {move || format!("Propose this version of the {} plan", plan.get().label())}
                </button>
            </ActionForm>
            {form_error(propose.value())}
            {move || propose.value().get().and_then(Result::ok).map(|id| view! {
                <p class="notice proposed" role="status">{format!("Proposal {id} recorded. It takes effect once a second person approves it.")}</p>
            })}
        </section>
    }
}

#[component]
fn TierRow(i: usize, draft: RwSignal<Draft>) -> impl IntoView {
    let read = move |field: fn(&DraftTier) -> String| {
        move || draft.with(|d| d.tiers.get(i).map(field).unwrap_or_default())
    };
    view! {
        <tr class="tier-row">
            <th scope="row">{i + 1}</th>
            <td><input type="text" inputmode="decimal" name=format!("tier-{}-up-to", i + 1) aria-label=format!("Block {} ends at", i + 1)
                prop:value=read(|t| t.up_to.clone())
                on:input=move |event| { let v = event_target_value(&event); draft.update(|d| if let Some(t) = d.tiers.get_mut(i) { t.up_to = v; }) }/></td>
            <td><input type="text" inputmode="decimal" name=format!("tier-{}-rate", i + 1) aria-label=format!("Block {} rate", i + 1)
                prop:value=read(|t| t.rate.clone())
                on:input=move |event| { let v = event_target_value(&event); draft.update(|d| if let Some(t) = d.tiers.get_mut(i) { t.rate = v; }) }/></td>
            <td><button type="button" class="remove-tier" on:click=move |_| draft.update(|d| { if i < d.tiers.len() { d.tiers.remove(i); } })>"Remove"</button></td>
        </tr>
    }
}

#[component]
fn BandRow(i: usize, draft: RwSignal<Draft>) -> impl IntoView {
    let text = move |field: fn(&DraftBand) -> String| {
        move || draft.with(|d| d.bands.get(i).map(field).unwrap_or_default())
    };
    let edit = move |apply: fn(&mut DraftBand, String)| {
        move |event: leptos::ev::Event| {
            let v = event_target_value(&event);
            draft.update(|d| {
                if let Some(b) = d.bands.get_mut(i) {
                    apply(b, v);
                }
            })
        }
    };
    let n = i + 1;
    view! {
        <tr class="band-row">
            <td><select name=format!("band-{n}-kind") aria-label=format!("Band {n}") on:change=edit(|b, v| b.kind = band_kind(&v))>
                {BandKind::ALL.into_iter().map(|k| view! {
                    <option value=k.as_str() selected=move || draft.with(|d| d.bands.get(i).map(|b| b.kind)) == Some(k)>{k.as_str()}</option>
                }).collect_view()}
            </select></td>
            <td><select name=format!("band-{n}-days") aria-label=format!("Band {n} days") on:change=edit(|b, v| b.days = days(&v))>
                {[(Days::All, "all"), (Days::Weekdays, "weekdays"), (Days::Weekends, "weekends")].into_iter().map(|(value, label)| view! {
                    <option value=label selected=move || draft.with(|d| d.bands.get(i).map(|b| b.days)) == Some(value)>{label}</option>
                }).collect_view()}
            </select></td>
            <td><input type="text" name=format!("band-{n}-from") aria-label=format!("Band {n} from") prop:value=text(|b| b.from.clone()) on:input=edit(|b, v| b.from = v)/></td>
            <td><input type="text" name=format!("band-{n}-to") aria-label=format!("Band {n} to") prop:value=text(|b| b.to.clone()) on:input=edit(|b, v| b.to = v)/></td>
            <td><input type="text" inputmode="decimal" name=format!("band-{n}-factor") aria-label=format!("Band {n} factor") prop:value=text(|b| b.factor.clone()) on:input=edit(|b, v| b.factor = v)/></td>
            <td><button type="button" class="remove-band" on:click=move |_| draft.update(|d| { if i < d.bands.len() { d.bands.remove(i); } })>"Remove"</button></td>
        </tr>
    }
}

fn band_kind(raw: &str) -> BandKind {
    BandKind::ALL
        .into_iter()
        .find(|k| k.as_str() == raw)
        .unwrap_or(BandKind::Flat)
}

fn days(raw: &str) -> Days {
    match raw {
        "weekdays" => Days::Weekdays,
        "weekends" => Days::Weekends,
        _ => Days::All,
    }
}

/// One of the draft's single fields.
#[component]
fn Field(
    label: &'static str,
    name: &'static str,
    draft: RwSignal<Draft>,
    get: fn(&Draft) -> String,
    set: fn(&mut Draft, String),
) -> impl IntoView {
    view! {
        <label>{label}
            <input type="text" inputmode="decimal" name=name prop:value=move || draft.with(get)
                on:input=move |event| { let v = event_target_value(&event); draft.update(|d| set(d, v)) }/>
        </label>
    }
}

/// A line of the sample table: its label, its class, and which amount it shows.
type SampleLine = (&'static str, &'static str, fn(&SampleBill) -> Decimal);

/// The sample bill of the version in force (if any) and of the draft, line by line.
#[component]
fn SampleTable(before: Option<SampleBill>, after: SampleBill, digits: u32) -> impl IntoView {
    let money = move |amount: Decimal| group_thousands(&fixed(amount, digits));
    let lines: [SampleLine; 5] = [
        ("Use", "sample-usage", |b| b.usage_net),
        ("Standing charges", "sample-standing", |b| b.standing),
        ("Monthly package", "sample-package", |b| b.package_fee),
        ("Tax", "sample-tax", |b| b.tax),
        ("Total", "sample-total", |b| b.total),
    ];
    let per_unit = |b: &SampleBill| {
        b.per_unit()
            .map(|p| format!("{:.4}", p.round_dp(4)))
            .unwrap_or_default()
    };
    let change = before.as_ref().map(|b| after.total - b.total);
    view! {
        <table class="account-table sample-table">
            <thead>
                <tr><th scope="col"></th><th scope="col" class="num">"In force"</th><th scope="col" class="num">"Draft"</th></tr>
            </thead>
            <tbody>
                {lines.into_iter().map(|(label, class, of)| view! {
                    <tr class=class>
                        <th scope="row">{label}</th>
                        <td class="num before">{before.as_ref().map(|b| money(of(b))).unwrap_or_else(|| "–".to_owned())}</td>
                        <td class="num after">{money(of(&after))}</td>
                    </tr>
                }).collect_view()}
                <tr class="sample-per-unit">
                    <th scope="row">"Per unit, all in"</th>
                    <td class="num before">{before.as_ref().map(per_unit).unwrap_or_default()}</td>
                    <td class="num after">{per_unit(&after)}</td>
                </tr>
            </tbody>
        </table>
        {change.map(|c| view! {
            <p class="sample-change">{format!("The draft changes this sample bill by {}{}.", if c.is_sign_negative() { "" } else { "+" }, money(c))}</p>
        })}
        {(after.bands.len() > 1).then(|| view! {
            <p class="sample-bands">{after.bands.iter().map(|(kind, quantity, net)| format!("{}: {} units, {}", kind.as_str(), group_thousands(&quantity.round_dp(2).to_string()), money(*net))).collect::<Vec<_>>().join(" · ")}</p>
        })}
    }
}

fn local(book: &TariffBook, at: DateTime<Utc>) -> String {
    book.zone.local(at).format("%Y-%m-%d %H:%M").to_string()
}

/// A tariff in a line: its blocks, bands, and charges.
fn describe(tariff: &Tariff, digits: u32) -> String {
    let rate = |r: Decimal| format!("{:.*}", digits as usize, r);
    let mut from = Decimal::ZERO;
    let mut parts: Vec<String> = tariff
        .tiers
        .iter()
        .map(|tier| {
            let part = match tier.up_to {
                Some(end) if from.is_zero() => format!("up to {end} at {}", rate(tier.rate)),
                Some(end) => format!("{from}–{end} at {}", rate(tier.rate)),
                None if from.is_zero() => format!("{} per unit", rate(tier.rate)),
                None => format!("above {from} at {}", rate(tier.rate)),
            };
            from = tier.up_to.unwrap_or(from);
            part
        })
        .collect();
    parts.extend(tariff.bands.iter().map(|band| {
        let days = match band.days {
            Days::All => "daily",
            Days::Weekdays => "weekdays",
            Days::Weekends => "weekends",
        };
        format!(
            "{} {days} {}–{} ×{}",
            band.kind.as_str(),
            band.from,
            band.to,
            band.factor
        )
    }));
    if !tariff.standing_charge_per_day.is_zero() {
        parts.push(format!("{} a day", rate(tariff.standing_charge_per_day)));
    }
    if !tariff.tax_percent.is_zero() {
        parts.push(format!("tax {}%", tariff.tax_percent));
    }
    parts.join("; ")
}
