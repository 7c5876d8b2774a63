// The "translate" glyph for the message toolbar (same 24×24 stroke style as ui/common/Icon).
export function TranslateIcon(props: { size?: number }) {
  return (
    <svg
      class="icon"
      viewBox="0 0 24 24"
      width={props.size ?? 18}
      height={props.size ?? 18}
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d="M4 5h8M8 3v2M6 5c0 4 3 7 6 8M10 5c0 4-3 7-6 8M13 21l4-9 4 9M14.5 18h5" />
    </svg>
  );
}
