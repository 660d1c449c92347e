/** A notification group in one sentence: "Alice and 3 others liked your post". */
import { t } from "../i18n";
import type { NotificationGroup } from "./notificationGroups";

function nameOf(account: { displayName: string; username: string } | undefined): string {
  return account ? account.displayName || account.username : "";
}

/** One person, two by name, or the newest and how many others. */
function gathered(group: NotificationGroup, one: string, two: string, many: string): string {
  const others = group.accounts.length - 1;
  return others <= 0 ? one : others === 1 ? two : many;
}

export function groupSummary(group: NotificationGroup): string {
  const name = nameOf(group.accounts[0]);
  const other = nameOf(group.accounts[1]);
  const count = group.accounts.length - 1;
  switch (group.type) {
    case "favourite":
      return gathered(group, t("notifications.favourite", { name }), t("notifications.favouriteTwo", { name, other }),
                      t("notifications.favouriteMany", { name, count }));
    case "reblog":
      return gathered(group, t("notifications.reblog", { name }), t("notifications.reblogTwo", { name, other }),
                      t("notifications.reblogMany", { name, count }));
    case "follow":
      return gathered(group, t("notifications.follow", { name }), t("notifications.followTwo", { name, other }),
                      t("notifications.followMany", { name, count }));
    case "follow_request":
      return t("notifications.followRequest", { name });
    case "mention":
      return t("notifications.mention", { name });
    case "status":
      return t("notifications.status", { name });
    case "update":
      return t("notifications.update", { name });
    case "poll":
      return t("notifications.poll");
    default:
      return t("notifications.other", { name, type: group.type });
  }
}
