// First boot: create the administrator and store the vault password.

import * as api from "../api.js";
import { append } from "../dom.js";
import { authCard, field } from "./auth_form.js";

export default function setupView(root, { afterLogin, navigate }) {
  const username = field("Username", {
    name: "username", autocomplete: "username", hint: "3 to 30 letters, digits or underscores.",
  });
  const password = field("Password", {
    type: "password", name: "password", autocomplete: "new-password", minlength: 8,
    hint: "At least 8 characters.",
  });
  const vault = field("Vault password", {
    type: "password", name: "vault_password", autocomplete: "off", required: false,
    hint: "Decrypts vault/secrets.yml of your CloudLab; stored encrypted, never shown again. "
      + "Leave it empty if the server gets it from VAULT_PASSWORD.",
  });
  append(root, authCard({
    title: "Welcome — set up CloudLab Manager",
    intro: "Create the administrator account. This page is shown only once, before the first user exists.",
    fields: [username, password, vault],
    submitLabel: "Create account",
    busyLabel: "Creating account…",
    onSubmit: async () => {
      try {
        await api.setup(username.input.value.trim(), password.input.value, vault.input.value || null);
      } catch (err) {
        if (err.status === 409) {
          // Someone else finished setup first: sign in instead.
          navigate("/login", {}, { replace: true });
          return;
        }
        throw err;
      }
      const user = await api.me().catch(() => ({ username: username.input.value.trim() }));
      afterLogin(user, null);
    },
  }));
  username.input.focus();
  return () => {};
}
