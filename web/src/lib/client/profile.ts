// The signed-in user's own account: profile edits and the list of their sessions (devices).
import type { GroupAdds, Me, SessionList, SessionView } from '../types';
import type { Client } from './index';

export class Profile {
  constructor(private readonly c: Client) {}

  async update(displayName: string): Promise<void> {
    this.c.session.setMe(await this.c.api.patch<Me>('/users/me', { display_name: displayName }));
  }

  /** Who may add me to a group without asking (GET /users/me: the session's copy may be older). */
  async groupAdds(): Promise<GroupAdds> {
    const me = await this.c.api.get<Me>('/users/me');
    return me.group_adds ?? 'anyone';
  }

  async setGroupAdds(v: GroupAdds): Promise<void> {
    this.c.session.setMe(await this.c.api.patch<Me>('/users/me', { group_adds: v }));
  }

  async sessions(): Promise<SessionView[]> {
    return (await this.c.api.get<SessionList>('/auth/sessions')).sessions;
  }

  async revokeSession(id: string): Promise<void> {
    await this.c.api.del(`/auth/sessions/${id}`);
  }
}
