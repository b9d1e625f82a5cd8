"""The Streamlit glue the pages share: sidebar, uploads, this session's data, tables, sign-in."""
