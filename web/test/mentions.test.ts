import { describe, expect, it } from 'vitest';
import { insertMention, mentionAt, rankMembers } from '../src/lib/mentions';
import type { PublicUser } from '../src/lib/types';

const u = (username: string, display_name = ''): PublicUser => ({ id: username, username, display_name, avatar: null });

describe('mention autocomplete', () => {
  it('finds the @word at the caret', () => {
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAt('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionAt('hi @bo there', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionAt('mail me@example', 15)).toBeNull();
    expect(mentionAt('hi @bo there', 12)).toBeNull();
    expect(mentionAt('line\n@al', 8)).toEqual({ start: 5, query: 'al' });
  });
  it('ranks username prefixes, then name words, then anything containing', () => {
    const people = [u('zed', 'Bob Z'), u('bobby', 'Robert'), u('abbot', 'A'), u('carol', 'Carol')];
    expect(rankMembers(people, 'bo').map((x) => x.username)).toEqual(['bobby', 'zed', 'abbot']);
    expect(rankMembers(people, '').length).toBe(4);
    expect(rankMembers(people, 'xyz')).toEqual([]);
    expect(rankMembers(people, '', 2).length).toBe(2);
  });
  it('inserts the username and a space, replacing the partial word', () => {
    expect(insertMention('hi @bo', { start: 3, query: 'bo' }, 6, 'bobby')).toEqual({ text: 'hi @bobby ', caret: 10 });
    expect(insertMention('hi @bo there', { start: 3, query: 'bo' }, 6, 'bobby')).toEqual({
      text: 'hi @bobby there',
      caret: 10,
    });
  });
});
