"""WeChat Official Account and WeCom channels (plain and AES modes), message normalisation."""
