import type { Account } from "../api/mastodon";

/** Decorative: the name beside it says who it is. */
export function Avatar({ account, size = 44 }: { account: Account; size?: number }) {
  return <img class="avatar" src={account.avatarStatic || account.avatar} alt="" width={size} height={size}
              loading="lazy" decoding="async" />;
}
