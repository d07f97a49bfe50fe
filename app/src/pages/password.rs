use super::{error_view, form_error};
use crate::api::auth::{ChangePassword, who_am_i};
use crate::domain::password::MIN_PASSWORD_CHARS;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let me = Resource::new(|| (), |_| who_am_i());
    view! {
        <Title text="Choose a password"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! {
                        <section class="card narrow">
                            <h1>"Choose a password"</h1>
                            {me.must_change_password.then(|| view! {
                                <p class="notice">"You signed in with an initial password. Choose your own to go on."</p>
                            })}
                            <ActionForm action=change>
                                <label>"Current password"
                                    <input type="password" name="current" autocomplete="current-password" required/>
                                </label>
                                <label>{format!("New password (at least {MIN_PASSWORD_CHARS} characters)")}
                                    <input type="password" name="new" autocomplete="new-password" required/>
                                </label>
                                <label>"New password again"
                                    <input type="password" name="confirm" autocomplete="new-password" required/>
                                </label>
                                <button type="submit" disabled=move || change.pending().get()>"Save password"</button>
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
