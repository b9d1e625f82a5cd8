"""The Streamlit glue the pages share: the sidebar, uploads, this session's data, tables, sign-in."""
