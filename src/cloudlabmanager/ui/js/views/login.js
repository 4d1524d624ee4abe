// Sign in; afterwards return to the page the user was on (?next=).

import * as api from "../api.js";
import { append } from "../dom.js";
import { authCard, field } from "./auth_form.js";

export default function loginView(root, { afterLogin, query }) {
  const next = query.get("next");
  const username = field("Username", { name: "username", autocomplete: "username" });
  const password = field("Password", { type: "password", name: "password", autocomplete: "current-password" });
  append(root, authCard({
    title: "Sign in",
    intro: next ? "Your session ended. Sign in again to continue where you were." : null,
    fields: [username, password],
    submitLabel: "Sign in",
    busyLabel: "Signing in…",
    onSubmit: async () => {
      await api.login(username.input.value.trim(), password.input.value);
      const user = await api.me().catch(() => ({ username: username.input.value.trim() }));
      afterLogin(user, next);
    },
  }));
  username.input.focus();
  return () => {};
}
