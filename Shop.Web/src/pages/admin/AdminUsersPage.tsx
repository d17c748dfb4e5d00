import { useRef, useState } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { queryKeys } from "../../api/queries";
import { updateSessionUser } from "../../api/session";
import type { Role, User } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { PagedTable } from "../../components/PagedTable";
import { Badge, Button, ConfirmButton, EmptyState, ErrorAlert, Notice, PageHeader, SelectField, SendButton, useNotice, type Say } from "../../components/ui";
import { formatDate } from "../../lib/format";
import { useSubmitMutation } from "../../lib/useSubmitMutation";

const PAGE_SIZE = 25;
const columns = [{ label: "User" }, { label: "Joined" }, { label: "Role" }, { label: "Status" }, { label: "Actions" }];

export default function AdminUsersPage() {
  const [offset, setOffset] = useState(0);
  const [notice, say] = useNotice();
  const queryKey = queryKeys.usersPage(PAGE_SIZE, offset);
  const query = useQuery({
    queryKey,
    queryFn: () => api.listUsers({ limit: PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <PageHeader title="Users" subtitle="Change roles and activate or deactivate accounts." />
      <Notice said={notice} className="mb-4" />
      <PagedTable
        query={query}
        queryKey={queryKey}
        columns={columns}
        row={(u) => <UserRow key={u.id} user={u} onNotice={say} />}
        empty={<EmptyState title="No users" />}
        what="the users"
        pages={{ size: PAGE_SIZE, offset, onChange: setOffset, label: "User pages" }}
      />
    </>
  );
}

function UserRow({ user, onNotice }: { user: User; onNotice: Say }) {
  const queryClient = useQueryClient();
  const rowRef = useRef<HTMLTableRowElement>(null);
  const { user: me } = useAuth();
  const isMe = me?.id === user.id;
  const done = (updated: User | undefined, msg: string) => {
    if (updated && isMe) updateSessionUser(updated);
    void queryClient.invalidateQueries({ queryKey: queryKeys.users });
    // The button pressed goes away once the list is read again (Deactivate becomes Activate, Change role goes): focus
    // goes to the words now, not to <body> then.
    onNotice(msg, { focusFrom: rowRef.current });
  };

  const setRole = useSubmitMutation({
    mutationFn: (role: Role) => api.updateUser(user.id, { role }),
    onSuccess: (u, role) => done(u, `${user.email} is now ${role === "admin" ? "an admin" : "a user"}.`),
  });
  const activate = useSubmitMutation({
    mutationFn: () => api.updateUser(user.id, { is_active: true }),
    onSuccess: (u) => done(u, `${user.email} was activated.`),
  });
  const deactivate = useSubmitMutation({
    mutationFn: () => api.deactivateUser(user.id),
    onSuccess: () => done(undefined, `${user.email} was deactivated.`),
  });
  // The select only chooses; "Change role" applies it. A select that applied on change made a user an admin with
  // one arrow key on a focused select (Windows browsers change the value without opening it).
  const [chosenRole, setChosenRole] = useState<Role>(user.role);
  // A role read anew (changed by another admin, or by this Change role) replaces the choice: left as it was, the
  // select would show the old role with Change role pending, and a press would undo the change. Adjusted while
  // rendering, as QuantityInput's draft, so no render shows the stale choice.
  const [shownRole, setShownRole] = useState<Role>(user.role);
  if (shownRole !== user.role) {
    setShownRole(user.role);
    setChosenRole(user.role);
  }
  const error = setRole.error ?? activate.error ?? deactivate.error;
  const cell = "block px-4 py-1 wrap-anywhere md:table-cell md:py-3 md:align-middle";

  return (
    <tr ref={rowRef} className="block py-3 md:table-row md:py-0" aria-label={user.email}>
      <td className={cell}>
        <p className="font-medium text-stone-900">
          {user.name} {isMe ? <span className="text-xs font-normal text-stone-500">(you)</span> : null}
        </p>
        <p className="text-xs text-stone-500">
          {user.email} · #{user.id}
        </p>
      </td>
      <td className={`${cell} text-stone-600`}>{formatDate(user.created_at)}</td>
      <td className={cell}>
        <SelectField
          label={`Role for ${user.email}`}
          hideLabel
          className="w-28"
          value={chosenRole}
          disabled={setRole.isPending || isMe}
          title={isMe ? "You cannot change your own role" : undefined}
          onChange={(e) => setChosenRole(e.target.value as Role)}
        >
          <option value="user">User</option>
          <option value="admin">Admin</option>
        </SelectField>
        {chosenRole !== user.role ? (
          <div className="mt-2 flex flex-wrap gap-2">
            <SendButton size="sm" onClick={() => setRole.submit(chosenRole)} request={setRole}>
              Change role
            </SendButton>
            <Button size="sm" variant="ghost" onClick={() => setChosenRole(user.role)}>
              Keep {user.role}
            </Button>
          </div>
        ) : null}
      </td>
      <td className={cell}>{user.is_active ? <Badge tone="good">Active</Badge> : <Badge tone="bad">Inactive</Badge>}</td>
      <td className={cell}>
        {user.is_active ? (
          // Ends the account's sessions at once.
          <ConfirmButton
            label="Deactivate"
            confirmLabel="Confirm deactivation"
            keepLabel="Keep active"
            disabled={isMe}
            title={isMe ? "You cannot deactivate yourself" : undefined}
            onConfirm={() => deactivate.submit()}
            request={deactivate}
          />
        ) : (
          <SendButton size="sm" variant="secondary" request={activate} onClick={() => activate.submit()}>
            Activate
          </SendButton>
        )}
        <ErrorAlert error={error} className="mt-2" />
      </td>
    </tr>
  );
}
