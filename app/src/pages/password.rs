use super::{error_view, form_error, locale::use_locale, words::*};
use crate::api::auth::{ChangePassword, who_am_i};
use crate::domain::password::MIN_PASSWORD_CHARS;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let me = Resource::new(|| (), |_| who_am_i());
    let l = use_locale();
    view! {
        <Title text=CHOOSE_PASSWORD.get(l)/>
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! {
                        <section class="card narrow">
                            <h1>{CHOOSE_PASSWORD.get(l)}</h1>
                            {me.must_change_password.then(|| view! {
                                <p class="notice">{INITIAL_PASSWORD.get(l)}</p>
                            })}
                            <ActionForm action=change>
                                <label>{CURRENT_PASSWORD.get(l)}
                                    <input type="password" name="current" autocomplete="current-password" required/>
                                </label>
                                <label>{NEW_PASSWORD.fill(l, &[&MIN_PASSWORD_CHARS.to_string()])}
                                    <input type="password" name="new" autocomplete="new-password" required/>
                                </label>
                                <label>{NEW_PASSWORD_AGAIN.get(l)}
                                    <input type="password" name="confirm" autocomplete="new-password" required/>
                                </label>
                                <button type="submit" disabled=move || change.pending().get()>{SAVE_PASSWORD.get(l)}</button>
                            </ActionForm>
                            {form_error(change.value())}
                        </section>
                    }
                    .into_any(),
                    Ok(None) => error_view(crate::error::AppError::Unauthenticated),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}
