"""The client portal: a read-only web face over share links (`fakturka portal`)."""
