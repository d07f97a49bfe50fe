use super::form_error;
use crate::api::auth::SignIn;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    view! {
        <Title text="Sign in"/>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=sign_in>
                <label>"E-mail address"
                    <input type="email" name="email" autocomplete="username" required/>
                </label>
                <label>"Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit" disabled=move || sign_in.pending().get()>"Sign in"</button>
            </ActionForm>
            {form_error(sign_in.value())}
            <p class="hint">"No account yet? Your property manager creates it when you move in."</p>
            <p class="hint"><a href="/pay">"Paying for someone? Top up by account or meter number."</a></p>
        </section>
    }
}
