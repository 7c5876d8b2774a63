import { describe, expect, it } from 'vitest';
import { groupNotice, memberActions, pickable, toggleChosen } from '../src/lib/memberPicker';
import type { PublicUser } from '../src/lib/types';

const u = (id: string): PublicUser => ({ id, username: id, display_name: id.toUpperCase(), avatar: null });

describe('pickable', () => {
  it('leaves out me, the chosen and the members, keeping the order', () => {
    const res = [u('me'), u('a'), u('b'), u('c'), u('d')];
    expect(pickable(res, { me: 'me', chosen: [u('b')], exclude: new Set(['d']) }).map((x) => x.id)).toEqual(['a', 'c']);
    expect(pickable(res, {}).length).toBe(5);
  });
});

describe('toggleChosen', () => {
  it('adds once and removes', () => {
    const one = toggleChosen([], u('a'));
    expect(one.map((x) => x.id)).toEqual(['a']);
    expect(toggleChosen(one, u('b')).map((x) => x.id)).toEqual(['a', 'b']);
    expect(toggleChosen(one, u('a'))).toEqual([]);
  });
});

describe('memberActions', () => {
  it('the owner may do everything to others', () => {
    expect(memberActions('owner', 'member', false)).toEqual(['promote', 'owner', 'mute', 'kick', 'ban']);
    expect(memberActions('owner', 'admin', false)).toEqual(['demote', 'owner', 'mute', 'kick', 'ban']);
  });
  it('an admin mutes, removes and bans members, and changes no roles', () => {
    expect(memberActions('admin', 'member', false)).toEqual(['mute', 'kick', 'ban']);
    expect(memberActions('admin', 'admin', false)).toEqual([]);
    expect(memberActions('admin', 'owner', false)).toEqual([]);
  });
  it('a member and myself get nothing', () => {
    expect(memberActions('member', 'member', false)).toEqual([]);
    expect(memberActions('owner', 'owner', true)).toEqual([]);
  });
});

describe('groupNotice', () => {
  const people: PublicUser[] = [
    { id: 'a', username: 'ann', display_name: 'Ann', avatar: null },
    { id: 'b', username: 'bo', display_name: '', avatar: null },
    { id: 'c', username: 'cy', display_name: 'Cy', avatar: null },
  ];
  it('says nothing when everyone was added', () => {
    expect(groupNotice(people, [], [])).toBe('');
  });
  it('names who got an invitation instead and who could not be added', () => {
    expect(groupNotice(people, ['a', 'b'], [])).toBe('Invitation sent to Ann, bo: they join when they accept it.');
    expect(groupNotice(people, ['a'], ['c'])).toBe(
      'Invitation sent to Ann: they join when they accept it. Cy could not be added.',
    );
  });
});
