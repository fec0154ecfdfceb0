/**
 * Archives written by GNU tar 1.34 (gzip'd, base64) for tar.test.ts: each holds package/package.json,
 * package/themes/dark.json, a 1,500-byte file under a 130-character path and a symbolic link.
 * Made with `tar --sort=name --mtime=2026-01-01 --owner=0 --group=0 --numeric-owner
 * --format=<format> -czf <format>.tgz package`.
 */
export const TARBALLS: Record<string, string> = {
  ustar:
    'H4sIAAAAAAAAA+3Y3U6DMBgGYC6FcK7QP5p4Nw1rpsKAUIwmZPduIeNAEgUCRTvfZwfddjDK3vXr19Uqy9VZx4FDiS' +
    'WFGEZrOg7PiSBUMMZ5/z5JUsaDULic1OjNtKqxU9n6OdOb80R9y/+0wdyPZ3X+lHPJkP8R9AZLi8bq/HnCuPQ8/z0W' +
    '1h73N6OoyvNDqS768dVUpZtr9N9Hyvl3+VNpi/3X/Jl9EYSHLKK/nH+8ZXUum/YHAADcnSX1f9ymipcy37L9/WTo/6' +
    'Rccf5jIrX9H411m8W1MubdXSv0z/v/Mf/b6KQLnOn/koSIaf6EpJ73f57oor75j57CqI2uvz0ZONy4/ttnfdHGzd+A' +
    'q8//hNqH5+d/T0zyP6km330PmK//6bT+S0ZR/4/QRVlVVI2xO0B3xQYAAAAAAAAAcJc+AZH3dGoAKAAA',
  gnu:
    'H4sIAAAAAAAAA+2YTW6DMBCFOYrFvuAfbEtd9QBcwgIrbSGAMFUrody9hoZFkFqCEpuozLcxYuOR38wbjxuVFeqg48' +
    'Ah2CI5H1fLfB2/CSeUM5Yk439pvwLEXQY18WE61SLkY6tHpDnrn9/AUvKs1p8yIhno74MojuKXtK4O6VtVONpjEFgk' +
    'ya/6U8wucsFmixQiQKmjeC7Yuf53qX99A047D7CED/1X+z8jdKh/8H/3PIT/UwL+vxHb+39pk++pUkcdvZu62vo89o' +
    'Yv//+j/qm0w97c/6Wtf+zjAHZe/18AAADAv+Ma/5/6f+nu+v/z/ifl9fMfoVTIANFYd1ncKGM+c1ex7b3/T/qfVyd3' +
    '8KX5DxM+058IAvc/L/ThMHqFzyjswtPWwQDemeq/e9VHbdw8xq5+/yNYUALvfz6Y6Z+rtrh7D1j2fzHv/wmj4P8+6M' +
    'OsLuvW2A7Qn6ABAAAAAMAu+AbgniBKACgAAA==',
  pax:
    'H4sIAAAAAAAAA+2a3W6jMBCFc92nQNxvwP9hpd73cl/BSq22m18FVo0U9d3XpUUiLlvK1pmm4XyJBMIXdjQ5Z+wZpt' +
    'kvu79x9tbtymxr5wt75yaRyT1ayvrqCa95bviEKcaVEFI+P2dM52aS7GMvpIs/ZWV3fikUc50hvEhs9bBy18wUqpBC' +
    'mtmUFYXhkhdXfnD+dlC9DH71ykEMXiWfnXKOWuJK/Vv//v5Y/7kWcpKoUy6qIZb+wx/3TWji38oCt5+gc45+/2fH8f' +
    'd3LIf/U/C+/89C/zfTmWJ+UMD+L4NG/58RfV/yGOz/XEoj4P8URIl/K3m4Dvr8X+TqOP6CCSHg/xQwmSdbW91fR/kj' +
    'dEX/o2RXyEX0UIR9sP8LrrSG/1NAFf93/Z/L0P+lQP2HBKbkufj/crO++7G2Kzf9XW7WPdmgqzJlUJkazBnonxsR6p' +
    '8r4/2fRJMj9/89AACAi+Mj/t9R/18+rBdRc0zf/v9t/5dL9H9pQP933DT6jy76FrXEjRnQ/xVKe/3zzFXzbGvL8rG7' +
    'sRiDke//O/z/9VF9Co8yR7//B/1fJv0X/k8Bau7jptF/dNG36NU/U6H/M4b6DwmH9Lnimv5M0ip9+urFAHI68n9171' +
    'aujDjH8PzPjdDI/xQg/4+bRv8voj/Na8C1xAe9/8v9B/1/CoL4t18DtrtFnO3gf5z/NEf9jwT4/7gJ9B9P9C36z386' +
    'PP8ZwXH+o+CQzjfLza70J8DDEw6AAAAAAAAAAAAAAAAAAMBF8BdciN2mAFAAAA==',
};
