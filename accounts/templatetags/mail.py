"""`{% mail_delivery as mail %}`: how mail leaves this installation, for pages that promise one."""

from django import template

from accounts.emails import MailDelivery
from accounts.emails import mail_delivery as delivery

register = template.Library()


@register.simple_tag
def mail_delivery() -> MailDelivery:
    return delivery()
