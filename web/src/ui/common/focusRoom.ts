// After a room is opened by the user, focus goes into it (its composer, else its message list)
// instead of staying on a control that may be hidden now (the room list on a phone) or dropping
// to <body>. Runs after the room has rendered and after any dialog gave focus back.
export function focusIntoRoom(): void {
  requestAnimationFrame(() => {
    const el =
      document.querySelector<HTMLElement>('.room #composer-input') ??
      document.querySelector<HTMLElement>('.room .vlist');
    el?.focus();
  });
}
