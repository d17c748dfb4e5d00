import { useId, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/queries";
import { updateSessionUser } from "../api/session";
import type { User } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { NameAndEmailFields } from "../components/NameAndEmailFields";
import { CurrentPasswordField, NewPasswordField, newPasswordProblem } from "../components/PasswordFields";
import { QueryView } from "../components/QueryView";
import { Card, ConfirmButton, ErrorAlert, Loading, Notice, PageHeader, SendButton, focusFieldTooLong, useNotice, type Said, type Sending } from "../components/ui";
import { requiredProblem, useFieldChecks, type FieldProblems } from "../lib/useFieldChecks";
import { useSubmitMutation } from "../lib/useSubmitMutation";

/** The signed-in shopper's own account: name and email, password, and Sign out everywhere. */
export default function AccountPage() {
  const me = useQuery({ queryKey: queryKeys.me, queryFn: api.me });
  return (
    <div className="max-w-2xl space-y-6">
      <PageHeader title="Account" subtitle="Your details, your password, and the devices you are signed in on." />
      <QueryView query={me} loading={<Loading label="Loading your account…" />} what="your account">
        {(user) => (
          <>
            <ProfileForm user={user} />
            <PasswordForm user={user} />
          </>
        )}
      </QueryView>
      <SignOutEverywhere />
    </div>
  );
}

/**
 * One part of the page, its heading naming its form. The submit button stays focusable while its request runs or the
 * shop has said to wait (SendButton). What the last submit came to is said
 * once: `said` (done) in a live region that is there from the start, or the shop's refusal (`request.error`) as an
 * alert. What the form's own checks found before sending (`problems`, useFieldChecks) stands on its fields instead.
 */
function AccountForm({
  title,
  description,
  submitLabel,
  request,
  problems,
  onSubmit,
  said,
  children,
}: {
  title: string;
  description: string;
  submitLabel: string;
  request: Sending;
  problems: FieldProblems<string>;
  /** `form`: the form submitted, where its own checks mark a field (useFieldChecks). */
  onSubmit: (form: HTMLFormElement) => void;
  said: Said | null;
  children: ReactNode;
}) {
  const heading = useId();
  return (
    <Card className="p-6">
      <h2 id={heading} className="text-lg font-semibold text-stone-900">
        {title}
      </h2>
      <p className="mt-1 text-sm text-stone-500">{description}</p>
      <form
        aria-labelledby={heading}
        noValidate
        className="mt-4 space-y-4"
        onSubmit={(e) => {
          e.preventDefault();
          // Enter in a field submits too: held, nothing is checked or said (a second submit while one is on its way sends
          // nothing either: useSubmitMutation). A field past its cap says so itself: it takes focus instead.
          const form = e.currentTarget;
          if (!request.held && !focusFieldTooLong(form)) onSubmit(form);
        }}
      >
        {/* A request on its way hides the last outcome's words, which would otherwise come back (and be said) as it clears the error. */}
        <Notice said={request.error || Object.keys(problems).length > 0 || request.isPending ? null : said} />
        <ErrorAlert error={request.error} />
        {children}
        <SendButton type="submit" request={request}>
          {submitLabel}
        </SendButton>
      </form>
    </Card>
  );
}

/** Name and email. Only what changed is sent; a new email needs the current password (Users asks for it). */
function ProfileForm({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(user.name);
  const [email, setEmail] = useState(user.email);
  const [currentPassword, setCurrentPassword] = useState("");
  const checks = useFieldChecks<"name" | "email" | "current_password">();
  const [said, say] = useNotice();
  // A change of one's own account draws from the gateway's account-change budget, as Change password does: a 429 on
  // either holds both.
  const save = useSubmitMutation({
    budget: "account-change",
    mutationFn: (changes: Parameters<typeof api.updateUser>[1]) => api.updateUser(user.id, changes),
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.me, updated);
      updateSessionUser(updated); // the header shows the new name
      setName(updated.name);
      setEmail(updated.email);
      setCurrentPassword("");
      say("Your profile was saved.");
    },
  });
  const emailChanged = email.trim() !== user.email;

  function submit(form: HTMLFormElement) {
    const changes = {
      ...(name.trim() !== user.name ? { name: name.trim() } : {}),
      ...(emailChanged ? { email: email.trim(), current_password: currentPassword } : {}),
    };
    const found = {
      name: requiredProblem(name.trim(), "Enter your name."),
      email: requiredProblem(email.trim(), "Enter your email."),
      current_password: emailChanged ? requiredProblem(currentPassword, "Enter your current password to change your email.") : null,
    };
    if (!checks.check(found, form)) return;
    if (Object.keys(changes).length === 0) {
      // The last refusal was about what the fields held then: it would hide these words.
      if (!save.isPending) save.reset();
      say("Nothing to save: your name and email are as they were.");
      return;
    }
    save.submit(changes);
  }

  return (
    <AccountForm
      title="Profile"
      description="Your name is shown in the shop; your email is how you sign in."
      submitLabel="Save profile"
      request={save}
      problems={checks.problems}
      onSubmit={submit}
      said={said}
    >
      <NameAndEmailFields
        name={name}
        email={email}
        onNameChange={setName}
        onEmailChange={setEmail}
        error={save.error}
        problems={checks.problems}
        sentEmail={save.variables?.email}
      />
      {emailChanged ? (
        <CurrentPasswordField
          label="Current password"
          name="current_password"
          value={currentPassword}
          onChange={(e) => setCurrentPassword(e.target.value)}
          error={checks.error("current_password", save.error)}
          hint="Needed to change the email you sign in with."
        />
      ) : null}
    </AccountForm>
  );
}

/**
 * A new password. Users then ends the account's other sessions and this tab's access token (its session is kept): the
 * API client exchanges the refresh cookie for a new token at the next refused request, so the tab goes on working.
 */
function PasswordForm({ user }: { user: User }) {
  const [currentPassword, setCurrentPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const checks = useFieldChecks<"current_password" | "password">();
  const [said, say] = useNotice();
  const change = useSubmitMutation({
    budget: "account-change",
    mutationFn: (passwords: { current_password: string; password: string }) => api.updateUser(user.id, passwords),
    onSuccess: () => {
      setCurrentPassword("");
      setNewPassword("");
      say("Your password was changed. Your other sessions were signed out.");
    },
  });

  function submit(form: HTMLFormElement) {
    const found = { current_password: requiredProblem(currentPassword, "Enter your current password."), password: newPasswordProblem(newPassword) };
    if (checks.check(found, form)) change.submit({ current_password: currentPassword, password: newPassword });
  }

  return (
    <AccountForm
      title="Password"
      description="Changing it signs you out on your other devices; you stay signed in here."
      submitLabel="Change password"
      request={change}
      problems={checks.problems}
      onSubmit={submit}
      said={said}
    >
      <CurrentPasswordField
        label="Current password"
        name="current_password"
        value={currentPassword}
        onChange={(e) => setCurrentPassword(e.target.value)}
        error={checks.error("current_password", change.error)}
      />
      <NewPasswordField
        label="New password"
        name="password"
        value={newPassword}
        onChange={(e) => setNewPassword(e.target.value)}
        error={checks.error("password", change.error)}
      />
    </AccountForm>
  );
}

/** Ends every session of the account, this one too (a device left signed in elsewhere): then sign in says so. */
function SignOutEverywhere() {
  const { signedOutEverywhere } = useAuth();
  const end = useSubmitMutation({ mutationFn: api.logoutEverywhere, onSuccess: signedOutEverywhere });
  const heading = useId();
  return (
    <Card className="p-6">
      <section aria-labelledby={heading}>
        <h2 id={heading} className="text-lg font-semibold text-stone-900">
          Signed-in devices
        </h2>
        <p className="mt-1 text-sm text-stone-500">
          Left yourself signed in on another device? Sign out everywhere ends every session of your account, this one
          included.
        </p>
        <ErrorAlert error={end.error} className="mt-4" />
        <div className="mt-4 flex flex-wrap gap-2">
          <ConfirmButton
            label="Sign out everywhere"
            confirmLabel="Confirm sign out everywhere"
            keepLabel="Stay signed in"
            size="md"
            request={end}
            onConfirm={() => end.submit()}
          />
        </div>
      </section>
    </Card>
  );
}
