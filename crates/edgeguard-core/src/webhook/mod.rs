//! Webhook signature verification: Stripe, Shopify, GitHub and Standard Webhooks.
