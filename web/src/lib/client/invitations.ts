// Invitations to groups: an add that my `group_adds` setting turned into a question (GET
// /invitations). Loaded when the gateway is ready (start and every reconnect) and again on each
// `invitation` frame; accepting joins the group and opens it, declining drops it.
import { enc } from '../api';
import { signal } from '../reactive';
import type { Invitation, InvitationList, Room } from '../types';
import type { Client } from './index';

export class Invitations {
  private readonly items = signal<Invitation[]>([]);
  /** Answers in flight: a refetch that started before them must not bring them back. */
  private readonly answering = new Set<string>();
  private gen = 0;

  constructor(private readonly c: Client) {}

  /** The pending invitations, newest first (tracked). */
  list(): Invitation[] {
    return this.items.get();
  }

  async load(): Promise<void> {
    const g = ++this.gen;
    const { invitations } = await this.c.api.get<InvitationList>('/invitations');
    if (g !== this.gen) return;
    this.items.set(invitations.filter((i) => !this.answering.has(i.room_id)));
    for (const i of invitations) if (i.invited_by) this.c.members.rememberUser(i.invited_by);
  }

  /** Join the group (listed and tracked; the view opens it); resolves its id. */
  async accept(roomId: string): Promise<string> {
    return this.answer(roomId, async () => {
      const r = await this.c.api.post<Room>(`/invitations/${enc(roomId)}/accept`);
      return this.c.rooms.joined(r);
    });
  }

  async decline(roomId: string): Promise<void> {
    await this.answer(roomId, () => this.c.api.del(`/invitations/${enc(roomId)}`));
  }

  private async answer<T>(roomId: string, fn: () => Promise<T>): Promise<T> {
    this.answering.add(roomId);
    this.gen++;
    try {
      const out = await fn();
      this.items.set(this.items.get().filter((i) => i.room_id !== roomId));
      return out;
    } finally {
      this.answering.delete(roomId);
    }
  }

  reset(): void {
    this.gen++;
    this.items.set([]);
  }
}
